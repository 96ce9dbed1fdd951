"""``instruction_pair``: the ``instruction`` and ``response`` text columns of SFT pairs.

The Instruction Mining indicators (METHODS.md 13: lengths, MTLD, response perplexity, KNN
distance) are computed per instruction/response pair, so they need the two texts as columns. This
step derives them, vectorised (one ``pyarrow.json`` parse per batch, no per-row Python):

- ``pairs_from = "meta"``: from fields of the ``meta`` JSON, i.e. any JSONL whose records carry the
  instruction and the response as fields (Alpaca: ``instruction`` + optional ``input`` + ``output``,
  with ``text`` mapped to any of them; list the fields in the source's ``fields.meta``, since a field
  mapped to ``text`` otherwise leaves ``meta``). ``input_field``, when set and non-empty in a record, is
  appended to the instruction after a blank line (Alpaca's convention).
- ``pairs_from = "messages"``: from ``text`` holding a conversation as a JSON list of
  ``{"role", "content"}`` turns (what the chat reader writes): the instruction is the system and
  user turns, the response the assistant turns, each joined by a blank line in order.

A missing field (or a conversation without a turn of that side) gives a null column value, so the
indicators of that row are null and a later ``score_percentile`` drops it as ``<column>_missing``
(counted, never silent); a value that is not a string is a one-line error naming the field.
"""

from __future__ import annotations

import dataclasses
import io
from typing import ClassVar, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from curate.config import param
from curate.errors import CurateError
from curate.schema import META, TEXT
from curate.steps.step import with_columns

#: Joins the turns of one side, and an Alpaca instruction with its input.
TURN_SEPARATOR = "\n\n"
TURN_TYPE = pa.list_(pa.struct([("role", pa.string()), ("content", pa.large_string())]))


def parse_json_lines(values: pa.Array, schema: pa.Schema) -> pa.Table:
    """Parse each string of ``values`` (one JSON object per row; null = ``{}``) into ``schema``'s
    columns with one ``pyarrow.json`` call; fields outside the schema are ignored."""
    if len(values) == 0:
        return schema.empty_table()
    big = pa.large_string()
    rows = pc.fill_null(values.cast(big), "{}")
    lines = pc.binary_join_element_wise(rows, pa.scalar("", big), pa.scalar("\n", big))  # row + "\n"
    offsets = np.frombuffer(lines.buffers()[1], np.int64, len(lines) + 1, lines.offset * 8)
    data = lines.buffers()[2][offsets[0] : offsets[-1]] if len(lines) else pa.py_buffer(b"")
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pj.read_json(io.BytesIO(data), parse_options=options,
                             read_options=pj.ReadOptions(block_size=max(1 << 20, data.size + 1)))
    except pa.ArrowInvalid as exc:
        raise CurateError(f"instruction_pair: cannot read {', '.join(schema.names)} as text: {exc}") from None
    if table.num_rows != len(rows):
        raise CurateError(f"instruction_pair: {len(rows)} rows gave {table.num_rows} JSON objects; "
                          "a value holds a raw newline (not JSON from the reader?)")
    return table


def join_turns(turns: pa.ListArray, roles: tuple[str, ...]) -> pa.Array:
    """Per row, the ``content`` of the turns whose role is in ``roles``, joined in order by
    ``TURN_SEPARATOR``; null where a row has no such turn."""
    flat = pc.list_flatten(turns)
    parent = pc.list_parent_indices(turns).to_numpy()
    keep = pc.is_in(flat.field("role"), pa.array(roles)).to_numpy(zero_copy_only=False)
    counts = np.bincount(parent[keep], minlength=len(turns))
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    content = pc.fill_null(flat.field("content").filter(pa.array(keep)), "")
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), content, mask=pa.array(counts == 0))
    return pc.binary_join(lists, pa.scalar(TURN_SEPARATOR, pa.large_string()))


@dataclasses.dataclass(frozen=True, kw_only=True)
class InstructionPair:
    """Adds ``instruction`` and ``response`` (large_string) from meta fields or a conversation."""

    name: ClassVar[str] = "instruction_pair"
    pairs_from: Literal["meta", "messages"] = param(
        "meta", doc="meta: fields of the meta JSON; messages: text is a JSON list of role/content turns")
    instruction_field: str = param("instruction", doc="meta field holding the instruction")
    input_field: str | None = param("input", doc="meta field appended to the instruction (Alpaca input); none = off")
    response_field: str = param("output", doc="meta field holding the response")
    instruction_column: str = param("instruction", doc="column to write the instruction to")
    response_column: str = param("response", doc="column to write the response to")

    def pair(self, batch: pa.RecordBatch) -> tuple[pa.Array, pa.Array]:
        if self.pairs_from == "messages":
            wrapped = pc.binary_join_element_wise(pa.scalar('{"turns":', pa.large_string()),
                                                  batch.column(TEXT).cast(pa.large_string()),
                                                  pa.scalar("}", pa.large_string()), pa.scalar("", pa.large_string()))
            turns = parse_json_lines(wrapped, pa.schema([("turns", TURN_TYPE)])).column("turns").combine_chunks()
            return join_turns(turns, ("system", "user")), join_turns(turns, ("assistant",))
        fields = [self.instruction_field, self.response_field] + ([self.input_field] if self.input_field else [])
        table = parse_json_lines(batch.column(META), pa.schema([(f, pa.large_string()) for f in dict.fromkeys(fields)]))
        instruction = table.column(self.instruction_field).combine_chunks()
        if self.input_field:
            extra = table.column(self.input_field).combine_chunks()
            has_extra = pc.fill_null(pc.not_equal(extra, ""), False)
            joined = pc.binary_join_element_wise(instruction, pc.fill_null(extra, ""),
                                                 pa.scalar(TURN_SEPARATOR, pa.large_string()))
            instruction = pc.if_else(has_extra, joined, instruction)
        return instruction, table.column(self.response_field).combine_chunks()

    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        instruction, response = self.pair(batch)
        return with_columns(batch, {self.instruction_column: instruction, self.response_column: response})

"""``curate export``: token shards -> the formats other trainers read (Megatron, nanoGPT, MDS, HF).

Every export walks the build's documents in manifest order (``sequences.py``), writes its format,
and next to it ``export.json`` (format, ``with_prefix``, tokenizer entry, counts, files) and
``lineage.parquet`` (one row per exported document, in order: ``id``, ``source``, ``shard``,
``row``, ``offset``, ``num_tokens``, ``num_prefix_tokens``, ``num_control_tokens``), so every
token can be traced back to its document (formats with several data files add a ``file`` column;
rows are then ordered by file, then offset). ``curate/commands/export.py`` marks the dir
(``.curate-export``) before any export writes into it, and removes what a failed export wrote.
"""

FORMATS = {
    "megatron": "curate.export.megatron",
    "nanogpt": "curate.export.nanogpt",
    "mds": "curate.export.mds",
    "hf": "curate.export.hf",
}


import dataclasses  # noqa: E402

#: nanoGPT's val.bin share when neither --val-frac nor the recipe's [train] holdout_frac gives one.
DEFAULT_VAL_FRAC = 0.01


@dataclasses.dataclass(frozen=True)
class Blend:
    """A Megatron ``--data-path`` blend: one data prefix per value of ``group_by`` (a shard column,
    ``source`` or ``skill``), weighted by ``weights`` (group -> token share; None: the tokens each
    group has, the natural mix). ``name``: the phase it plans, or ``group_by`` for a natural blend."""

    name: str
    group_by: str
    weights: dict[str, float] | None = None
    num_tokens: int | None = None  # the phase's token budget
    conditioning: bool | None = None  # the phase's flag: its documents' form is the prefixed one


@dataclasses.dataclass(frozen=True)
class ExportOptions:
    """What an export writes besides the format itself. ``val_frac`` of the documents, chosen by
    ``holdout_mask(id, seed, val_frac)`` (the hash of mixers' and the trainer's held-out documents),
    go to nanoGPT's ``val.bin`` / the HF ``validation`` split; ``blends`` make Megatron write one
    prefix per group."""

    with_prefix: bool = False
    val_frac: float = 0.0
    seed: int = 0
    blends: tuple[Blend, ...] = ()

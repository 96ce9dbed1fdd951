"""The document schema: one ``pyarrow.RecordBatch`` layout shared by readers, steps and writers.

Every batch that flows between steps has at least these columns, in this order:

| column        | type                    | meaning                                                   |
|---------------|-------------------------|-----------------------------------------------------------|
| ``id``        | string                  | document id (from the source field, or ``<source>/<file>/<row>``) |
| ``text``      | large_string            | document text (UTF-8)                                     |
| ``source``    | string                  | the recipe source name                                    |
| ``url``       | string, nullable        | URL, where the source has one                             |
| ``timestamp`` | timestamp[us, UTC], nullable | crawl/creation time; unparseable values become null  |
| ``meta``      | string, nullable        | pass-through fields of the record, as one JSON object     |
| ``input_file``| string                  | lineage: input path relative to the recipe file           |
| ``input_row`` | int64                   | lineage: 0-based index of the record in that file (below) |

Steps append their own columns after these (``lang``, ``lang_score``, ``dup_cluster``, ``tokens``, ...).
Columns whose name starts with ``_`` are internal to a run and never reach the shards.

Lineage, one convention for all formats: ``input_row`` of a document, ``input_row`` of a rejected
row and ``line`` of a quarantined record are the same 0-based index of the record's unit in its
file, so gaps are records that are not documents:

| format  | unit (``input_row`` / ``line``)                       | quarantine ``byte_offset``                 |
|---------|--------------------------------------------------------|--------------------------------------------|
| JSONL   | physical line (blank lines count; a BOM is skipped)    | line start in the decompressed stream      |
| Parquet | row of the file                                        | null for a row; a corrupt row group: the group's first page in the file |
| WARC    | record (warcinfo, request, response, ... all count)    | the record's file offset (its gzip member's in .warc.gz) |

A quarantine record stands for one record, except: a corrupt Parquet row group (one record for its
unread rows, ``line`` = the first of them, the error names the range) and a file-level failure
(unreadable footer, wrong text column type, empty file: ``line`` null, ``byte_offset`` 0).
"""

import pyarrow as pa

ID = "id"
TEXT = "text"
SOURCE = "source"
URL = "url"
TIMESTAMP = "timestamp"
META = "meta"
INPUT_FILE = "input_file"
INPUT_ROW = "input_row"

TIMESTAMP_TYPE = pa.timestamp("us", tz="UTC")

DOC_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string(), nullable=False),
        pa.field(TEXT, pa.large_string(), nullable=False),
        pa.field(SOURCE, pa.string(), nullable=False),
        pa.field(URL, pa.string()),
        pa.field(TIMESTAMP, TIMESTAMP_TYPE),
        pa.field(META, pa.string()),
        pa.field(INPUT_FILE, pa.string(), nullable=False),
        pa.field(INPUT_ROW, pa.int64(), nullable=False),
    ]
)

REJECTED_SCHEMA = pa.schema(
    [
        pa.field(ID, pa.string()),
        pa.field(SOURCE, pa.string()),
        pa.field("step", pa.string()),
        pa.field("reason", pa.string()),
        pa.field("duplicate_of", pa.string()),
        pa.field(INPUT_FILE, pa.string()),
        pa.field(INPUT_ROW, pa.int64()),
    ]
)

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field(SOURCE, pa.string()),
        pa.field(INPUT_FILE, pa.string()),
        pa.field("line", pa.int64()),
        pa.field("byte_offset", pa.int64()),
        pa.field("error", pa.string()),
        pa.field("excerpt", pa.string()),
    ]
)


def empty_docs() -> pa.RecordBatch:
    """A zero-row batch with the document schema."""
    return pa.RecordBatch.from_pylist([], schema=DOC_SCHEMA)


def public_columns(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Drop internal ``_``-prefixed columns before writing shards."""
    keep = [i for i, name in enumerate(batch.schema.names) if not name.startswith("_")]
    if len(keep) == batch.num_columns:
        return batch
    return pa.RecordBatch.from_arrays(
        [batch.column(i) for i in keep], schema=pa.schema([batch.schema.field(i) for i in keep])
    )

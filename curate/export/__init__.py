"""``curate export``: token shards -> the formats other trainers read (Megatron, nanoGPT, MDS, HF).

Every export walks the build's documents in manifest order (``sequences.py``), writes its format,
and next to it ``export.json`` (format, ``with_prefix``, tokenizer entry, counts, files) and
``lineage.parquet`` (one row per exported document, in order: ``id``, ``source``, ``shard``,
``row``, ``offset``, ``num_tokens``, ``num_prefix_tokens``, ``num_control_tokens``), so every
token can be traced back to its document. ``curate/commands/export.py`` marks the dir
(``.curate-export``) before any export writes into it, and removes what a failed export wrote.
"""

FORMATS = {
    "megatron": "curate.export.megatron",
    "nanogpt": "curate.export.nanogpt",
    "mds": "curate.export.mds",
    "hf": "curate.export.hf",
}

"""``log.jsonl`` of a run: one JSON object per line (``kind`` = train | eval | note).

The number of lines written is checkpointed; a resumed run first cuts the file back to that count,
so lines written after the last checkpoint by a killed run are written again, once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


class RunLog:
    def __init__(self, path: Path, write: bool = True) -> None:
        self.path = path
        self.num_lines = 0
        self.writes = write         # False on torchrun ranks > 0: count lines, write nothing

    def start(self) -> None:
        """An empty log for a new run."""
        if self.writes:
            self.path.write_bytes(b"")
        self.num_lines = 0

    def truncate(self, num_lines: int) -> None:
        """Keep the first ``num_lines`` lines (the ones a checkpoint accounts for)."""
        if self.writes:
            lines = self.path.read_bytes().splitlines(keepends=True) if self.path.exists() else []
            self.path.write_bytes(b"".join(lines[:num_lines]))
        self.num_lines = num_lines

    def write(self, record: dict[str, Any]) -> None:
        if self.writes:
            with open(self.path, "ab") as f:
                f.write(orjson.dumps(record) + b"\n")
        self.num_lines += 1

"""A progress bar over input bytes that also shows documents and documents/s (tqdm, stderr)."""

from __future__ import annotations

import time


class ProgressBar:
    def __init__(self, total_bytes: int, desc: str = "build"):
        from tqdm import tqdm

        self.bar = tqdm(total=total_bytes, unit="B", unit_scale=True, unit_divisor=1000, desc=desc,
                        dynamic_ncols=True, disable=None)
        self.docs = 0
        self.t0 = time.perf_counter()

    def update_docs(self, docs: int, num_bytes: int) -> None:
        self.docs += docs
        rate = self.docs / max(time.perf_counter() - self.t0, 1e-9)
        self.bar.set_postfix_str(f"{self.docs} docs, {rate:,.0f} docs/s", refresh=False)
        self.bar.update(num_bytes)

    def close(self) -> None:
        self.bar.close()

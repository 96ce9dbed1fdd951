"""Start-up of a ``curate build`` process: what makes the first batch come fast. (The one slow start,
the first use of a kernel family after an install, compiles it once and says so: curate/kernels.)

- :func:`skip_pandas_probe`: pyarrow imports pandas (~0.3 s) at the first ``pa.array`` of a
  process only to recognise pandas objects in its inputs. curate passes none, so the CLI lets that
  probe fail once; pyarrow still imports pandas on demand (``to_pandas``) if anything asks later.
- :func:`idle_blas_threads`: numpy's OpenBLAS starts one thread per core when numpy is imported,
  and each spins ~2^28 cycles waiting for work that a curate build never gives it: ~0.04 CPU s of
  every process on 2 cores (more on more), the CPU a small build burnt beyond its wall time. With
  ``OPENBLAS_THREAD_TIMEOUT=4`` (set before numpy loads, unless the user set it) idle threads
  sleep at once; BLAS keeps its threads (a call wakes them: microseconds).

The precomputed character table is the third fixed cost: it lives in a cache file
(``curate/text/table_cache.py``); the kernels are the fourth (``curate/kernels``).
"""

from __future__ import annotations

import os
import sys


def idle_blas_threads() -> None:
    """``OPENBLAS_THREAD_TIMEOUT=4`` unless set (module docstring); no effect once numpy is loaded."""
    os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")


def skip_pandas_probe() -> None:
    """Make pyarrow's one-time pandas detection fail fast (no-op when pandas is already loaded)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0])  # pyarrow's first conversion runs (and remembers) its pandas probe
    finally:
        sys.meta_path.remove(_NoPandas)


class _NoPandas:
    """An import finder that fails ``import pandas`` (first on ``sys.meta_path``, briefly)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas":
            raise ImportError("pandas probe skipped by curate (curate/startup.py)")
        return None

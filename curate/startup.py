"""Start-up of a ``curate build`` process: what makes the first batch come fast, and the one line
that explains the only slow start (the first run after an install compiles the numba kernels).

- :func:`skip_pandas_probe`: pyarrow imports pandas (~0.3 s) at the first ``pa.array`` of a
  process only to recognise pandas objects in its inputs. curate passes none, so the CLI lets that
  probe fail once; pyarrow still imports pandas on demand (``to_pandas``) if anything asks later.
- :func:`idle_blas_threads`: numpy's OpenBLAS starts one thread per core when numpy is imported,
  and each spins ~2^28 cycles waiting for work that a curate build never gives it: ~0.04 CPU s of
  every process on 2 cores (more on more), the CPU a small build burnt beyond its wall time. With
  ``OPENBLAS_THREAD_TIMEOUT=4`` (set before numpy loads, unless the user set it) idle threads
  sleep at once; BLAS keeps its threads (a call wakes them: microseconds).
- :func:`announce_compiles`: numba compiles a kernel only when its on-disk cache (``cache=True``)
  has no entry for it (a fresh install, a new numba or curate version); the first such compile of
  a process prints ``curate: compiling kernels once (~N s) ...`` to stderr, so a cold start is a
  visible one-off, not a silent stall. Cache hits print nothing.

The precomputed character table is the third fixed cost: it lives in a cache file
(``curate/text/table_cache.py``).
"""

from __future__ import annotations

import os
import sys

#: Seconds a cold compile of every kernel took on the reference 2-core machine (benchmarks/README.md).
COMPILE_SECONDS = 60


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


def announce_compiles(stream=None) -> None:
    """Print one line on the process's first numba compile (not on cache loads). Installs nothing
    when numba is not loaded: then no step of this build has kernels."""
    if "numba" not in sys.modules:
        return
    from numba.core import event

    class CompileNotice(event.Listener):
        said = False

        def on_start(self, ev) -> None:
            if not CompileNotice.said:
                CompileNotice.said = True
                print(f"curate: compiling kernels once (~{COMPILE_SECONDS} s; cached for later runs) ...",
                      file=stream or sys.stderr, flush=True)

        def on_end(self, ev) -> None:
            pass

    event.register("numba:compile", CompileNotice())

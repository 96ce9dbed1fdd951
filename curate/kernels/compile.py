"""Compile one kernel family ahead of time: ``python -m curate.kernels.compile FAMILY PATH``.

Builds ``curate/kernels/<FAMILY>.py``'s ``SIGNATURES`` with ``numba.pycc`` for the host CPU into a
temporary directory next to ``PATH``, then renames its SHA-256 onto ``PATH.sha256`` and the
extension onto ``PATH`` (atomic: a reader sees the whole file or none, and checks it). Run by
:func:`curate.kernels.compile_locked`, under its lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.machinery
import os
import platform
import sys
import tempfile
import warnings
from pathlib import Path

from curate.kernels import digest_path


def compile_family(family: str, path: Path) -> None:
    warnings.simplefilter("ignore")  # pycc's deprecation notice
    from numba.pycc import CC

    module = importlib.import_module(f"curate.kernels.{family}")
    signatures: dict[str, str] = getattr(module, "SIGNATURES", {})
    if not signatures:
        raise SystemExit(f"curate/kernels/{family}.py exports nothing (empty SIGNATURES)")
    wide = getattr(module, "VECTOR_BITS", 256) == 512 and platform.machine() in ("x86_64", "AMD64")
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{family}-") as tmp, _vectors(wide):
        cc = CC(f"_curate_{family}")
        cc.output_dir = tmp
        cc.target_cpu = "host"
        cc.verbose = False
        for name, signature in signatures.items():
            cc.export(name, signature)(getattr(module, name).py_func)
        cc.compile()
        suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
        built = Path(tmp) / f"_curate_{family}{suffix}"
        digest = Path(tmp) / "digest"
        digest.write_text(hashlib.sha256(built.read_bytes()).hexdigest() + "\n")
        os.replace(digest, digest_path(path))  # a reader of the old library now fails its check
        os.replace(built, path)


#: Python frames added under the compiler. CPython 3.11 frees a 16 KiB frame-stack chunk (mmap'd) as
#: soon as the stack drops back below it, and at the depth ``python -m`` leaves, a hot loop of numba's
#: compiler crossed such a boundary: ``strace -c`` counted 4.8 million mmap/munmap pairs, and the
#: cold compile of ``gopher_quality`` took 38 s (22.8 s user, 15.3 s system) instead of 18 s (17.1 s
#: user, 1.2 s system) with 5 or 40 frames more (2026-12-02, 2-core machine, load 1-3).
FRAME_OFFSET = 5


def at_depth(frames: int, fn, *args):
    """``fn(*args)`` called ``frames`` Python frames deeper than this call."""
    return fn(*args) if frames <= 0 else at_depth(frames - 1, fn, *args)


@contextlib.contextmanager
def _vectors(wide: bool):
    """With ``wide``, let LLVM vectorise with 512-bit registers where the CPU has AVX-512: its tuning
    for such CPUs (``prefer-256-bit``) otherwise keeps loops at 256 bits. A family opts in with
    ``VECTOR_BITS = 512`` (a hot loop bound by multiplies: twice the lanes per instruction); a CPU
    without AVX-512 gets the same code either way. The ISA still comes from the CPU model (numba's
    AOT codegen); other families compiled later in the process are not affected."""
    from numba.core.codegen import AOTCPUCodegen

    if not wide:
        yield
        return
    own = AOTCPUCodegen._customize_tm_features  # numba's: '' (the CPU model's features)
    AOTCPUCodegen._customize_tm_features = lambda self: "-prefer-256-bit"
    try:
        yield
    finally:
        AOTCPUCodegen._customize_tm_features = own


if __name__ == "__main__":
    at_depth(FRAME_OFFSET, compile_family, sys.argv[1], Path(sys.argv[2]))

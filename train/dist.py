"""Data-parallel training under ``torchrun``: which process this is, and the few collective steps.

``torchrun --nproc_per_node N -m curate train R.toml`` (or ``curate train R.toml --nproc N``, which
runs that command) starts N processes with ``RANK``/``WORLD_SIZE``/``LOCAL_RANK`` set; each calls
:func:`init` and gets a :class:`Dist`. Backend: NCCL on CUDA (one GPU per local rank), gloo on CPU.

How the work is split (exact equivalence with the 1-process run at the same global batch):

- every rank draws the **same** global document stream from the same sampler and packs the step's
  ``batch_rows * grad_accum`` rows in the same order (drawing and packing are cheap index work), then
  rank r trains on the contiguous block ``rows[r*n/N:(r+1)*n/N]`` (:meth:`Dist.my_rows`): the ranks'
  blocks are disjoint and cover the step, so no row is trained twice and none is skipped;
- each rank's loss is its target-token loss sum over the **global** number of target tokens of the
  step (every rank knows it: it packed all rows), times N because DDP averages gradients: the
  all-reduced gradient is exactly the 1-process gradient up to fp32 summation order;
- sampler, packer, position and RNG are identical on every rank, so rank 0's checkpoint is the whole
  state: a run resumes with any world size that divides the step's rows;
- rank 0 writes the log, checkpoints and models; other ranks only count log lines. Evaluation runs on
  every rank (same weights, same result) so Skill-It's ``sampler.observe`` stays identical.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import torch
import torch.distributed as torch_dist

from curate.errors import CurateError


@dataclasses.dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")
    _wrapped: dict = dataclasses.field(default_factory=dict, compare=False, repr=False)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def check_rows(self, rows_per_step: int) -> None:
        if rows_per_step % self.world_size:
            raise CurateError(f"batch_rows * grad_accum = {rows_per_step} rows per step do not split "
                              f"over {self.world_size} processes; make it a multiple of {self.world_size}")

    def my_rows(self, rows: list) -> list:
        """This rank's contiguous block of a step's rows."""
        n = len(rows) // self.world_size
        return rows[self.rank * n:(self.rank + 1) * n]

    def wrap(self, model) -> Any:
        """``model`` wrapped in DistributedDataParallel (made once per model); itself with 1 process."""
        if self.world_size == 1:
            return model
        key = id(model)
        ddp = self._wrapped.get(key)
        if ddp is None or ddp.module is not model:
            self._wrapped.clear()
            ids = [self.device.index] if self.device.type == "cuda" else None
            ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
            self._wrapped[key] = ddp
        return ddp

    def sum(self, value: float) -> float:
        """``value`` summed over ranks (a float64 all-reduce)."""
        if self.world_size == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64, device=self.device)
        torch_dist.all_reduce(t)
        return float(t.item())

    def barrier(self) -> None:
        if self.world_size > 1:
            torch_dist.barrier()


def init() -> Dist:
    """The :class:`Dist` of this process: from torchrun's environment, or 1 process on CPU/CUDA:0."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    cuda = torch.cuda.is_available()
    if world_size == 1:
        return Dist(device=torch.device("cuda", 0) if cuda else torch.device("cpu"))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cpu")
    if cuda:
        if local_rank >= torch.cuda.device_count():
            raise CurateError(f"local rank {local_rank} has no GPU ({torch.cuda.device_count()} visible); "
                              "run at most one process per GPU (--nproc / --nproc_per_node)")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not torch_dist.is_initialized():
        torch_dist.init_process_group("nccl" if cuda else "gloo", rank=rank, world_size=world_size)
    return Dist(rank=rank, world_size=world_size, device=device)


def shutdown() -> None:
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()


def use_bf16(precision: str, device: torch.device) -> bool:
    """bf16 autocast: ``precision = "bf16"``, or ``"auto"`` on CUDA (fp32 on CPU)."""
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def torchrun_command(nproc: int, argv: list[str]) -> list[str]:
    """The ``torchrun`` command line that runs ``curate ARGV`` in ``nproc`` processes on this host."""
    import sys

    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "curate", *argv]

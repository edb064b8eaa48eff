"""What a training loop needs to know about ``torch.distributed`` — and nothing more.

The course trains on one process. A loop written with these functions also runs under
``torchrun --nproc_per_node N``: each process draws its own batches (seed it with
``seed + rank()``), wraps its networks in ``torch.nn.parallel.DistributedDataParallel``
(BatchNorm layers converted with ``torch.nn.SyncBatchNorm.convert_sync_batchnorm``), and only
the main process writes checkpoints and draws progress bars.
"""

from __future__ import annotations

import torch.distributed as dist


def rank() -> int:
    """This process's rank in the default process group (0 when not distributed)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes in the default process group (1 when not distributed)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_main_process() -> bool:
    """True on rank 0 (and when not distributed): the process that writes files and logs."""
    return rank() == 0


def barrier() -> None:
    """Wait for every process (a no-op when not distributed), e.g. before reading a checkpoint
    that rank 0 has just written."""
    if world_size() > 1:
        dist.barrier()

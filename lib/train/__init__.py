"""Training: one resumable loop shared by every trainer, and the trainers themselves.

==========================  =====================================================================
seeding                     :func:`seed_everything`, :func:`deterministic_algorithms`
progress bars               :func:`progress` (``tqdm.auto``, at most one refresh per second,
                            rank 0 only)
torch.distributed           :func:`rank`, :func:`world_size`, :func:`is_main_process`,
                            :func:`barrier` (single-process defaults when not distributed)
a run's skeleton            :func:`init_distributed` (device; joins torchrun's process group),
                            :func:`wrap_ddp`, :func:`unwrap`, :func:`save_state` /
                            :func:`load_state` (resumable state), :func:`resume_run`,
                            :func:`run_steps` (the loop)
the trainers                :mod:`lib.train.recipes`, run as ``python -m lib.train NAME``
their command lines         :mod:`lib.train.arguments` (``argparse`` types: a bad value is a
                            one-line ``error:``, exit status 2)
==========================  =====================================================================

Weight files and their manifests live in :mod:`lib.weights`.
"""

from lib.train.distributed import barrier, is_main_process, rank, world_size
from lib.train.loop import (
    init_distributed,
    load_state,
    resume_run,
    run_steps,
    save_state,
    unwrap,
    wrap_ddp,
)
from lib.train.progress import progress
from lib.train.seeding import deterministic_algorithms, seed_everything

__all__ = [
    "barrier",
    "deterministic_algorithms",
    "init_distributed",
    "is_main_process",
    "load_state",
    "progress",
    "rank",
    "resume_run",
    "run_steps",
    "save_state",
    "seed_everything",
    "unwrap",
    "world_size",
    "wrap_ddp",
]

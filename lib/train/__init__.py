"""Training-loop pieces shared by the course's models.

==========================  =====================================================================
seeding                     :func:`seed_everything`, :func:`deterministic_algorithms`
progress bars               :func:`progress` (``tqdm.auto``, at most one refresh per second,
                            rank 0 only)
checkpoints                 :func:`write_weights`, :func:`read_weights` (sha256-checked,
                            ``weights_only``), :func:`read_manifest`, :func:`update_manifest`,
                            :func:`half_precision`, :func:`manifest_entry`,
                            :func:`load_committed` (a committed model's entry and weights)
torch.distributed           :func:`rank`, :func:`world_size`, :func:`is_main_process`,
                            :func:`barrier` (single-process defaults when not distributed)
a run's skeleton            :func:`init_distributed` (device; joins torchrun's process group),
                            :func:`wrap_ddp`, :func:`unwrap`, :func:`save_state` /
                            :func:`load_state` (resumable state), :func:`run_steps` (the loop)
==========================  =====================================================================
"""

from lib.train.checkpoints import (
    MANIFEST,
    half_precision,
    load_committed,
    manifest_entry,
    read_manifest,
    read_weights,
    update_manifest,
    write_weights,
)
from lib.train.distributed import barrier, is_main_process, rank, world_size
from lib.train.loop import (
    init_distributed,
    load_state,
    run_steps,
    save_state,
    unwrap,
    wrap_ddp,
)
from lib.train.progress import progress
from lib.train.seeding import deterministic_algorithms, seed_everything

__all__ = [
    "MANIFEST",
    "barrier",
    "deterministic_algorithms",
    "half_precision",
    "load_committed",
    "manifest_entry",
    "init_distributed",
    "load_state",
    "run_steps",
    "save_state",
    "unwrap",
    "wrap_ddp",
    "is_main_process",
    "progress",
    "rank",
    "read_manifest",
    "read_weights",
    "seed_everything",
    "update_manifest",
    "world_size",
    "write_weights",
]

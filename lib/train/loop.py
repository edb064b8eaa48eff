"""A training run's skeleton: device and process group, DDP wrapping, resumable state, the loop.

Every trainer of :mod:`lib.train.recipes` (the course classifiers and clip network, the DCGAN,
vid2vid, Everybody Dance Now, CartoonGAN) trains with the same pieces:

- :func:`init_distributed` picks the device; launched by ``torchrun`` it also joins the process
  group (gloo on the CPU, NCCL on CUDA), so ``torchrun --nproc_per_node N -m lib.train NAME``
  trains data-parallel with no other change;
- :func:`wrap_ddp` / :func:`unwrap` put a network in ``DistributedDataParallel`` when there are
  several processes (BatchNorm converted to SyncBatchNorm) and take it out again for saving;
- :func:`save_state` / :func:`load_state` write and read everything that decides the rest of a
  run — the networks, the optimisers, the learning-rate schedulers, the step, every global RNG
  (torch CPU and CUDA, NumPy, Python), the recipe's own data generators (``generators``: a
  batch sampler's ``torch.Generator`` is registered by name, so a resumed run draws the batches
  an uninterrupted one would) and a JSON-friendly ``extra`` dict — in one file, atomically, read
  back with ``torch.load(weights_only=True)`` (nothing is unpickled);
- :func:`run_steps` calls ``step_fn(step)`` for each step, shows running means of the losses it
  returns on a rank-aware progress bar and calls ``on_checkpoint`` every ``checkpoint_every``
  steps and at the end;
- :func:`run_classifier_steps` is the whole loop of a classifier trained with cross-entropy (the
  clip network, the street segmenter): resume, the steps under deterministic algorithms, a
  running-loss log line every ``log_every`` steps and a state every ``checkpoint_every`` steps.
"""

from __future__ import annotations

import io
import math
import os
import random
import resource
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from lib._checks import check_positive_int
from lib._io import atomic_write
from lib.device import resolve_device
from lib.train.distributed import is_main_process, world_size
from lib.train.progress import progress
from lib.train.seeding import deterministic_algorithms
from lib.weights import half_precision, update_manifest, weights_file, write_weights

STATE_FORMAT = 2
# Format 1 held torch's CPU RNG state only; it is still read (its other RNGs are left as they are).
READABLE_FORMATS = (1, STATE_FORMAT)


def _launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1 and "RANK" in os.environ


def init_distributed(device: str | torch.device | None = "auto") -> torch.device:
    """The device this process trains on; joins the process group when started by torchrun.

    Without torchrun (no ``WORLD_SIZE`` > 1 in the environment) this is
    :func:`lib.device.resolve_device`. Under torchrun the default process group is initialised
    once (NCCL when the device is CUDA, gloo otherwise) and a CUDA process uses
    ``cuda:LOCAL_RANK``.
    """
    resolved = resolve_device(device)
    if not _launched_by_torchrun():
        return resolved
    if resolved.type == "cuda":
        resolved = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(resolved)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if resolved.type == "cuda" else "gloo")
    return resolved


def wrap_ddp(module: nn.Module) -> nn.Module:
    """``DistributedDataParallel(module)`` when several processes train; otherwise the module
    itself. On CUDA, BatchNorm layers become SyncBatchNorm, so that every replica normalises
    with the statistics of the whole batch; SyncBatchNorm has no CPU implementation, so on the
    CPU (gloo) each replica normalises with its own part of the batch (the parameters stay
    identical: their gradients are averaged)."""
    if world_size() <= 1:
        return module
    device = next(module.parameters()).device
    if device.type == "cuda":
        module = nn.SyncBatchNorm.convert_sync_batchnorm(module)
    ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(module, device_ids=ids)


def unwrap(module: nn.Module) -> nn.Module:
    """The network inside a ``DistributedDataParallel`` wrapper (or the module itself)."""
    return module.module if isinstance(module, nn.parallel.DistributedDataParallel) else module


def _check_named(items, kind: str) -> dict:
    if not isinstance(items, Mapping):
        raise TypeError(f"{kind}: expected a dict of name -> object, got {type(items).__name__}")
    return dict(items)


def _check_generators(generators) -> dict[str, torch.Generator]:
    generators = _check_named(generators or {}, "generators")
    for name, gen in generators.items():
        if not isinstance(gen, torch.Generator):
            raise TypeError(f"generators[{name!r}]: expected a torch.Generator, got {gen!r}")
    return generators


def _rng_state() -> dict:
    """Every global RNG a training step may draw from, as tensors and plain containers (so that
    ``weights_only=True`` reads it back)."""
    # numpy's stubs type the default (legacy) state as a dict; it is this 5-tuple.
    legacy = cast(
        tuple[str, np.ndarray, int, int, float],
        np.random.get_state(),  # noqa: NPY002 - global state
    )
    kind, keys, pos, has_gauss, cached = legacy
    version, internal, gauss = random.getstate()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
        "numpy": {
            "kind": str(kind),
            "keys": torch.from_numpy(keys.astype(np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "python": {"version": version, "internal": list(internal), "gauss": gauss},
    }


def _set_rng_state(rng) -> None:
    if isinstance(rng, torch.Tensor):  # format 1
        torch.set_rng_state(rng)
        return
    torch.set_rng_state(rng["torch"].cpu())
    if rng["cuda"] and torch.cuda.is_available():
        states = [t.cpu() for t in rng["cuda"]]
        if len(states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(states)
    n = rng["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state((n["kind"], keys, n["pos"], n["has_gauss"], n["cached"]))  # noqa: NPY002
    p = rng["python"]
    random.setstate((p["version"], tuple(p["internal"]), p["gauss"]))


def save_state(
    path: str | os.PathLike,
    *,
    step: int,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    schedulers: Mapping[str, torch.optim.lr_scheduler.LRScheduler] | None = None,
    generators: Mapping[str, torch.Generator] | None = None,
    extra: dict | None = None,
) -> Path | None:
    """Write a resumable training state to ``path`` atomically (on the main process only; the
    others return ``None``).

    The file holds ``{"format", "step", "modules": {name: state_dict}, "optimizers": {name:
    state_dict}, "schedulers": {name: state_dict}, "generators": {name: RNG state}, "rng":
    {"torch", "cuda", "numpy", "python"}, "extra": extra}`` — tensors, numbers, strings and
    containers only, so :func:`load_state` can read it with ``weights_only=True``.
    ``generators`` are the ``torch.Generator`` objects the recipe draws its data from (batch
    samplers, augmentation): without them a resumed run would draw other batches.
    """
    modules = _check_named(modules, "modules")
    optimizers = _check_named(optimizers or {}, "optimizers")
    schedulers = _check_named(schedulers or {}, "schedulers")
    generators = _check_generators(generators)
    if not is_main_process():
        return None
    state = {
        "format": STATE_FORMAT,
        "step": int(step),
        "modules": {
            k: {n: t.detach().cpu() for n, t in unwrap(m).state_dict().items()}
            for k, m in modules.items()
        },
        "optimizers": {k: o.state_dict() for k, o in optimizers.items()},
        "schedulers": {k: s.state_dict() for k, s in schedulers.items()},
        "generators": {k: g.get_state().cpu() for k, g in generators.items()},
        "rng": _rng_state(),
        "extra": dict(extra or {}),
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return atomic_write(path, lambda handle: handle.write(buffer.getvalue()))


def load_state(
    path: str | os.PathLike,
    *,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    schedulers: Mapping[str, torch.optim.lr_scheduler.LRScheduler] | None = None,
    generators: Mapping[str, torch.Generator] | None = None,
    map_location: str | torch.device = "cpu",
    restore_rng: bool = True,
) -> tuple[int, dict]:
    """Load a state written by :func:`save_state` into ``modules``, ``optimizers``,
    ``schedulers`` and ``generators`` (matched by name); returns ``(step, extra)``.

    With ``restore_rng`` the global RNGs (torch CPU and CUDA, NumPy, Python) are set to their
    saved states too. Read with ``torch.load(weights_only=True)``. A missing file raises
    ``FileNotFoundError``; a file that is not such a state, or lacks one of the names asked for,
    raises ``ValueError`` naming what is missing.
    """
    modules = _check_named(modules, "modules")
    optimizers = _check_named(optimizers or {}, "optimizers")
    schedulers = _check_named(schedulers or {}, "schedulers")
    generators = _check_generators(generators)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: training state file is missing")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # corrupt file or pickled code: refuse, never execute
        raise ValueError(f"{path}: not a readable training state ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") not in READABLE_FORMATS:
        raise ValueError(f"{path}: not a training state written by lib.train.save_state")
    for kind, wanted in (
        ("modules", modules),
        ("optimizers", optimizers),
        ("schedulers", schedulers),
        ("generators", generators),
    ):
        missing = sorted(set(wanted) - set(state.get(kind, {})))
        if missing:
            raise ValueError(
                f"{path}: the state has no {kind} named {missing} (written by another version "
                "of the trainer? start afresh without --resume)"
            )
    for name, module in modules.items():
        unwrap(module).load_state_dict(state["modules"][name])
    for name, optimizer in optimizers.items():
        optimizer.load_state_dict(state["optimizers"][name])
    for name, scheduler in schedulers.items():
        scheduler.load_state_dict(state["schedulers"][name])
    for name, gen in generators.items():
        gen.set_state(state["generators"][name].cpu())
    if restore_rng:
        _set_rng_state(state["rng"])
    return int(state["step"]), dict(state["extra"])


def resume_run(
    path: str | os.PathLike | None,
    config: object,
    *,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    schedulers: Mapping[str, torch.optim.lr_scheduler.LRScheduler] | None = None,
    generators: Mapping[str, torch.Generator] | None = None,
) -> tuple[int, dict]:
    """:func:`load_state` for ``--resume``: refuses a missing state file and a state written by
    a run with other settings (its ``extra["config"]`` differs from ``config``), since either
    would silently train something other than the run asked for. Returns ``(step, extra)``."""
    if path is None or not Path(path).is_file():
        raise FileNotFoundError(f"resume: no training state at {path}; drop --resume")
    done, extra = load_state(
        path, modules=modules, optimizers=optimizers, schedulers=schedulers, generators=generators
    )
    if extra.get("config") != config:
        raise ValueError(
            f"{path}: written by another run ({extra.get('config')}); start afresh without --resume"
        )
    return done, extra


def run_steps(
    step_fn: Callable[[int], Mapping[str, float] | None],
    *,
    steps: int,
    start_step: int = 0,
    desc: str | None = None,
    checkpoint_every: int = 0,
    on_checkpoint: Callable[[int], None] | None = None,
    enabled: bool = True,
) -> list[dict]:
    """Run ``step_fn(step)`` for ``step = start_step … steps − 1``; returns the per-step history.

    ``step_fn`` returns a dict of scalar losses (floats or 0-d tensors) or ``None``. The progress
    bar (main process only, ≤ 1 refresh/s, hidden when ``enabled`` is false) shows their means
    since the last refresh. ``on_checkpoint(done)`` is called with the number of steps done every
    ``checkpoint_every`` steps (0: never in between) and once at the end. A non-finite loss stops
    the run with a ``FloatingPointError`` that names the step and the loss.
    """
    steps = check_positive_int(steps, "steps")
    if isinstance(start_step, bool) or not isinstance(start_step, int) or not 0 <= start_step:
        raise ValueError(f"start_step: expected an integer ≥ 0, got {start_step!r}")
    if (
        isinstance(checkpoint_every, bool)
        or not isinstance(checkpoint_every, int)
        or (checkpoint_every < 0)
    ):
        raise ValueError(f"checkpoint_every: expected an integer ≥ 0, got {checkpoint_every!r}")
    history: list[dict] = []
    window: dict[str, list[float]] = {}
    with progress(total=steps, desc=desc, enabled=enabled, unit="step") as bar:
        bar.update(min(start_step, steps))
        for step in range(start_step, steps):
            losses = {
                k: float(v.detach() if isinstance(v, torch.Tensor) else v)
                for k, v in (step_fn(step) or {}).items()
            }
            bad = [k for k, v in losses.items() if not math.isfinite(v)]
            if bad:
                raise FloatingPointError(f"step {step}: loss {bad[0]} is {losses[bad[0]]}")
            history.append(losses)
            for k, v in losses.items():
                window.setdefault(k, []).append(v)
            done = step + 1
            if bar.update(1) and window:  # tqdm returns True when it refreshed
                bar.set_postfix(
                    {k: f"{sum(v) / len(v):.3g}" for k, v in window.items()}, refresh=False
                )
                window.clear()
            if on_checkpoint is not None and (
                done == steps or (checkpoint_every and done % checkpoint_every == 0)
            ):
                on_checkpoint(done)
    return history


def run_classifier_steps(
    net: nn.Module,
    sample_batch: Callable[[], tuple[torch.Tensor, torch.Tensor]],
    *,
    optimizer: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    steps: int,
    generators: Mapping[str, torch.Generator],
    config: dict,
    logits: Callable[[torch.Tensor], torch.Tensor] | None = None,
    weight: torch.Tensor | None = None,
    state_path: str | os.PathLike | None = None,
    resume: bool = False,
    checkpoint_every: int = 0,
    desc: str | None = None,
    log: Callable[[str], None] | None = print,
    log_every: int = 100,
    start_time: float | None = None,
) -> list[float]:
    """Train the classifier ``net`` for ``steps`` cross-entropy steps; returns every step's loss.

    Each step puts ``net`` in training mode, draws ``(x, y) = sample_batch()`` (inputs and int64
    class indices; the sampler draws from ``generators``), takes ``F.cross_entropy(logits(x), y,
    weight=weight)`` (``logits`` defaults to ``net`` itself; ``weight``: one weight per class, or
    ``None``), then ``optimizer.step()`` and ``schedule.step()``. The steps run through
    :func:`run_steps` with deterministic algorithms switched on; ``net`` is left in eval mode.

    ``log`` (``None``: silent) gets ``"step k/steps: loss m, t s"`` every ``log_every`` steps and
    after the last one — m the mean of the last ``log_every`` losses, t the seconds since
    ``start_time`` (a ``time.perf_counter()`` value; default: this call). With ``state_path`` a
    :func:`save_state` state — ``net`` as ``"net"``, ``optimizer`` as ``"opt"``, ``schedule`` as
    ``"schedule"``, ``generators`` by their names, and ``extra = {"config": config, "losses":
    losses so far}`` — is written every ``checkpoint_every`` steps (0: never in between) and at
    the end. ``resume`` first loads that state through :func:`resume_run` (which refuses a state
    of another ``config``) and continues from its step, so that the run ends with the weights and
    losses of an uninterrupted one.
    """
    steps = check_positive_int(steps, "steps")
    log_every = check_positive_int(log_every, "log_every")
    if (
        isinstance(checkpoint_every, bool)
        or not isinstance(checkpoint_every, int)
        or checkpoint_every < 0
    ):
        raise ValueError(f"checkpoint_every: expected an integer ≥ 0, got {checkpoint_every!r}")
    if not callable(sample_batch):
        raise TypeError(f"sample_batch: expected a callable, got {type(sample_batch).__name__}")
    if logits is None:
        logits = net
    elif not callable(logits):
        raise TypeError(f"logits: expected a callable, got {type(logits).__name__}")
    if weight is not None and not isinstance(weight, torch.Tensor):
        raise TypeError(f"weight: expected a tensor or None, got {type(weight).__name__}")
    if weight is not None and (weight.ndim != 1 or not weight.is_floating_point()):
        raise ValueError(
            "weight: expected a 1-D float tensor (one weight per class), got shape "
            f"{tuple(weight.shape)} of {weight.dtype}"
        )
    if resume and state_path is None:
        raise ValueError("resume: needs a state_path to resume from")
    generators = _check_generators(generators)
    start = time.perf_counter() if start_time is None else start_time
    state = {
        "modules": {"net": net},
        "optimizers": {"opt": optimizer},
        "schedulers": {"schedule": schedule},
        "generators": generators,
    }
    running: list[float] = []
    done = 0
    if resume:
        done, extra = resume_run(state_path, config, **state)
        if "losses" not in extra:
            raise ValueError(
                f"{state_path}: the state has no losses; start afresh without --resume"
            )
        running = [float(v) for v in extra["losses"]]

    def step_fn(step: int) -> dict[str, float]:
        net.train()
        x, y = sample_batch()
        loss = F.cross_entropy(logits(x), y, weight=weight)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        running.append(float(loss.detach()))
        if log is not None and ((step + 1) % log_every == 0 or step + 1 == steps):
            mean = sum(running[-log_every:]) / len(running[-log_every:])
            log(f"step {step + 1}/{steps}: loss {mean:.3f}, {time.perf_counter() - start:.0f} s")
        return {"loss": running[-1]}

    def on_checkpoint(steps_done: int) -> None:
        if state_path is not None:
            save_state(
                state_path, step=steps_done, **state, extra={"config": config, "losses": running}
            )

    with deterministic_algorithms(True):
        if done < steps:
            run_steps(
                step_fn,
                steps=steps,
                start_step=done,
                desc=desc,
                checkpoint_every=checkpoint_every,
                on_checkpoint=on_checkpoint,
                enabled=False,  # the log lines report the progress
            )
    net.eval()
    return running


# ------------------------------------------------------------------------- a finished run
def cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_cost(wall_start: float, cpu_start: float) -> dict:
    """What a run cost and ran on, for a manifest: wall seconds since ``wall_start`` (a
    ``time.perf_counter()`` value), CPU seconds since ``cpu_start`` (a :func:`cpu_seconds`
    value), torch's thread count and version."""
    return {
        "train_seconds": round(time.perf_counter() - wall_start, 1),
        "cpu_seconds": round(cpu_seconds() - cpu_start, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }


def save_network(net: nn.Module, report: dict, folder: str | os.PathLike, name: str) -> Path:
    """Write ``<folder>/<name>.safetensors`` (the state dict in float16) and its manifest
    entry (``report`` with the file's sha256), each atomically; returns the file's path."""
    folder = Path(folder)
    path = folder / weights_file(name)
    digest = write_weights(path, half_precision(net.state_dict()))
    update_manifest(folder, name, {**report, "sha256": digest})
    return path

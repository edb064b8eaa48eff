"""Train vid2vid on the toy street: ``python -m lib.train vid2vid [options]``.

Each stage starts with a **supervised warm-up** (``--warmup`` steps, no discriminators): for
random (clip, frame) pairs the generator makes frame t from the real previous frames (or, for
half of them, from none, as for a clip's first frame); the flow and mask learn on the street's
exact flow and occlusion (:func:`lib.models.vid2vid.flow_losses`) and the image by a
class-balanced L1. The paper trains a single-frame generator and uses a pre-trained flow
network; this is the course's cheap equivalent. Then the **adversarial** steps: each rolls the
generator over ``--frames`` consecutive frames of ``--batch`` clips (drawn from a pool of rendered
street clips; with probability ``--real-start`` the roll-out starts from L real frames, as in the
authors' code), updates the generator with :func:`lib.models.vid2vid.generator_losses` and then
the image and video discriminators with :func:`lib.models.vid2vid.discriminator_losses`; Adam,
β = (0.5, 0.999).

The default — one level at 64², 600 warm-up + 550 adversarial steps, the street panning at twice
its default speed (about 1.7 px per frame) — takes about 8½ CPU-minutes (6 without warping; a
warm-up step costs a fraction of an adversarial one). Half the schedule (300 + 250) draws people
short of their bar (notebook 10). The generator normalises with batch statistics in training and
generation alike (``norm="batch"``; see :class:`lib.models.vid2vid.Vid2VidGenerator`).
``--levels 2`` trains coarse-to-fine, as in the paper: a coarse generator at half the resolution
(stage ``coarse``), then a finer one on top of it (the coarse one frozen) at full resolution
(stage ``fine``). ``--preset gpu`` is the 256² parameter set for a GPU (two levels, wider
networks, longer clips, more steps). Variants (``--variant``): ``full``, ``copy`` (the zero-flow
copy control: no flow head, the previous frame copied in place where the mask says so),
``no_warp`` (no flow warping: x̃_t = h̃_t) and ``no_video_d`` (no video discriminator); ``--flow
exact|dis|none`` picks the flow supervision.

Checkpoints (``--state-dir``, default ``data/cache/vid2vid``, git-ignored) are written every
``--checkpoint-every`` steps and at the end of each stage; ``--resume`` continues from them, and
since they hold the data pool's sampler as well as the networks, optimisers and RNGs, a resumed
run ends with the weights of an uninterrupted one.
With ``--out DIR`` the final float16 generator goes to ``DIR/<variant>-seed<seed>.safetensors``,
listed in ``DIR/manifest.json`` (``lib.models.vid2vid.load_vid2vid`` reads it). Under
``torchrun --nproc_per_node N -m lib.train vid2vid`` every process trains on its own batches
with DistributedDataParallel (gloo on CPU, NCCL on GPU).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch

from lib.datasets.street import street
from lib.device import cpu_threads
from lib.features.perceptual import perceptual_net
from lib.models.vid2vid import (
    FLOW_SOURCES,
    HISTORY,
    LOSS_WEIGHTS,
    VARIANTS,
    ImageDiscriminator,
    Vid2VidGenerator,
    VideoDiscriminator,
    class_balanced_l1,
    discriminator_losses,
    flow_losses,
    generate_clip,
    generator_losses,
    manifest_key,
    reference_flow,
)
from lib.paths import DATA_DIR
from lib.train import arguments
from lib.train.distributed import barrier, is_main_process, rank, world_size
from lib.train.loop import (
    cpu_seconds,
    init_distributed,
    load_state,
    run_steps,
    save_state,
    unwrap,
    wrap_ddp,
)
from lib.train.seeding import deterministic_algorithms, seed_everything
from lib.weights import half_precision, update_manifest, write_weights

PRESETS = {
    "cpu": {},
    "gpu": {
        "size": 256,
        "levels": 2,
        "steps": 20000,
        "coarse_steps": 20000,
        "warmup": 2000,
        "lr": 2e-4,
        "batch": 8,
        "frames": 8,
        "clips": 512,
        "clip_frames": 24,
        "width": 64,
        "blocks": 6,
        "fine_blocks": 3,
        "d_width": 64,
        "perceptual": "auto",
        "threads": 4,
        "checkpoint_every": 1000,
    },
}


@dataclass
class TrainConfig:
    """Every knob of a run (the defaults are the CPU run at 64² of the committed weights)."""

    variant: str = "full"
    flow: str = "exact"
    size: int = 64
    levels: int = 1
    steps: int = 550  # adversarial steps of the finest stage (after its warm-up)
    coarse_steps: int = 300  # adversarial steps of the coarse stage (levels = 2)
    batch: int = 2
    frames: int = 5  # frames per training clip (≥ 5 for the video discriminator's 2 scales)
    clips: int = 128  # rendered clips in the training pool
    clip_frames: int = 12
    camera_speed: float = 2.0  # the street's pan speed (2: about 1.7 px per frame at 64²)
    real_start: float = 0.5  # probability that a training window starts from L real frames
    perceptual_tile: int = 32  # compare tiles of this size in the perceptual loss (0: whole)
    warmup: int = 600  # supervised steps (flow, mask, L1) at the start of each stage
    warmup_lr: float = 2e-3
    warmup_batch: int = 8  # (clip, frame) pairs per warm-up step
    norm: str = "batch"  # the generator's normalisation (instance norm erases the pan's flow)
    width: int = 32  # coarse generator width (the fine one has half)
    blocks: int = 2
    fine_blocks: int = 2
    d_width: int = 16
    temporal_scales: int = 2
    lr: float = 2e-4
    perceptual: str = "course"  # "course", "vgg19", "auto" or "none"
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    checkpoint_every: int = 100
    state_dir: str = str(DATA_DIR / "cache" / "vid2vid")
    resume: bool = False
    out: str | None = None
    progress: bool = True

    def validate(self) -> TrainConfig:
        if self.variant not in VARIANTS:
            raise ValueError(f"variant: expected one of {VARIANTS}, got {self.variant!r}")
        if self.flow not in FLOW_SOURCES:
            raise ValueError(f"flow: expected one of {FLOW_SOURCES}, got {self.flow!r}")
        if self.variant == "copy":  # the copy control has no flow head: its target is zero flow
            self.flow = "zero"
        elif self.flow == "zero":
            raise ValueError("flow: 'zero' is the copy control's target; use --variant copy")
        if self.levels not in (1, 2):
            raise ValueError(f"levels: expected 1 or 2, got {self.levels}")
        multiple = 2 ** (2 + self.levels - 1)
        if self.size % multiple:
            raise ValueError(f"size: must be a multiple of {multiple} for {self.levels} level(s)")
        need = HISTORY + 1
        if self.variant != "no_video_d":
            need = max(need, 1 + 2 * 2 ** (self.temporal_scales - 1))
        if self.frames < need:
            raise ValueError(
                f"frames: training clips need at least {need} frames (L + 1 = {HISTORY + 1}; the "
                f"video discriminator's {self.temporal_scales} temporal scales), got {self.frames}"
            )
        if self.clip_frames < self.frames:
            raise ValueError("clip_frames: the pool's clips must be at least `frames` long")
        for name in ("steps", "batch", "clips", "width", "d_width", "threads", "warmup_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be ≥ 1")
        if self.warmup < 0:
            raise ValueError(f"warmup: must be ≥ 0, got {self.warmup}")
        for name in ("coarse_steps", "blocks", "fine_blocks", "temporal_scales"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be ≥ 1, got {getattr(self, name)}")
        if self.checkpoint_every < 0 or self.seed < 0:
            raise ValueError("checkpoint_every, seed: must be ≥ 0")
        if not self.lr > 0:
            raise ValueError(f"lr: must be positive, got {self.lr}")
        if not self.camera_speed > 0:
            raise ValueError(f"camera_speed: must be positive, got {self.camera_speed}")
        if not 0 <= self.real_start <= 1:
            raise ValueError(f"real_start: a probability in [0, 1], got {self.real_start}")
        if self.perceptual_tile < 0 or (
            self.perceptual_tile and (self.size // 2 ** (self.levels - 1)) % self.perceptual_tile
        ):
            raise ValueError(
                "perceptual_tile: 0 or a size that divides every level's frame size, got "
                f"{self.perceptual_tile}"
            )
        return self

    def retrain_command(self) -> str:
        base = TrainConfig()
        args = [
            f"--{f.name.replace('_', '-')} {getattr(self, f.name)}"
            for f in dataclasses.fields(self)
            if f.name not in ("device", "resume", "out", "progress", "state_dir", "threads")
            and getattr(self, f.name) != getattr(base, f.name)
        ]
        return " ".join(["python -m lib.train vid2vid", *args, "--out data/vid2vid"])


def _perceptual(name: str, device):
    if name == "none":
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "auto" without VGG19: the course net
        return perceptual_net(backend=name, device=device)


class _Pool:
    """Rendered clips with their reference flow; batches are random windows of them."""

    def __init__(self, cfg: TrainConfig, size: int, device) -> None:
        clips = street(
            cfg.clips,
            frames=cfg.clip_frames,
            size=size,
            seed=cfg.seed,
            camera_speed=cfg.camera_speed,
        )
        self.flow, self.conf = reference_flow(clips, cfg.flow)
        self.clips = clips
        self.device = device
        self.gen = torch.Generator().manual_seed(cfg.seed * 1000 + 17 + rank())
        self.batch, self.frames = cfg.batch, cfg.frames
        self.real_start = cfg.real_start

    def sample_steps(self, n: int):
        """``(labels n×(L+1)×H×W, previous real frames n×L×3×H×W, frame n×3×H×W, flow
        n×2×H×W, confidence n×1×H×W)`` of ``n`` random (clip, frame t ≥ L) pairs."""
        idx = torch.randint(0, len(self.clips), (n,), generator=self.gen)
        t = torch.randint(HISTORY, self.clips.num_frames, (n,), generator=self.gen)
        back = torch.arange(-HISTORY, 1)
        frames = t[:, None] + back  # n×(L+1): t−L … t
        rows = idx[:, None]
        return (
            self.clips.labels[rows, frames].to(self.device),
            self.clips.frames[rows, frames[:, :-1]].to(self.device),
            self.clips.frames[idx, t].to(self.device),
            self.flow[idx, t].to(self.device),
            self.conf[idx, t].to(self.device),
        )

    def sample(self):
        """``(frames, labels, flow, confidence, given)``: a batch of windows and how many real
        frames the roll-out starts from (L with probability ``real_start``, else 0)."""
        idx = torch.randint(0, len(self.clips), (self.batch,), generator=self.gen)
        start = torch.randint(
            0, self.clips.num_frames - self.frames + 1, (self.batch,), generator=self.gen
        )
        window = torch.stack([torch.arange(s, s + self.frames) for s in start.tolist()])

        def take(x):
            rows = x[idx]
            picked = rows[torch.arange(self.batch)[:, None], window]
            return picked.to(self.device)

        given = HISTORY if float(torch.rand((), generator=self.gen)) < self.real_start else 0
        return (
            take(self.clips.frames),
            take(self.clips.labels),
            take(self.flow),
            take(self.conf),
            given,
        )


def _train_stage(
    cfg: TrainConfig,
    generator: Vid2VidGenerator,
    *,
    size: int,
    steps: int,
    stage: str,
    device,
    perceptual,
    starts: dict,
) -> list[dict]:
    """Train ``generator`` (its finest level) with fresh discriminators for ``steps`` steps
    (from the stage's checkpoint with ``cfg.resume``; the step it resumed from goes into
    ``starts[stage]``)."""
    torch.manual_seed(cfg.seed + (0 if stage == "coarse" else 1))
    generator = generator.to(device)
    image_d = ImageDiscriminator(width=cfg.d_width).to(device)
    video_d = (
        VideoDiscriminator(3, temporal_scales=cfg.temporal_scales, width=cfg.d_width).to(device)
        if cfg.variant != "no_video_d"
        else None
    )
    g_params = [p for p in generator.parameters() if p.requires_grad]
    d_modules = {"image_d": image_d} | ({"video_d": video_d} if video_d is not None else {})
    opt_g = torch.optim.Adam(g_params, lr=cfg.lr, betas=(0.5, 0.999))
    d_params = [p for m in d_modules.values() for p in m.parameters()]
    opt_d = torch.optim.Adam(d_params, lr=cfg.lr, betas=(0.5, 0.999))
    # The supervised warm-up has its own optimiser (a higher rate: no adversarial game yet).
    opt_w = torch.optim.Adam(g_params, lr=cfg.warmup_lr, betas=(0.5, 0.999))
    modules = {"generator": generator, **d_modules}
    optimizers = {"g": opt_g, "d": opt_d, "warmup": opt_w}
    name = f"{manifest_key(cfg.variant, cfg.seed)}-{cfg.flow}-{stage}"
    state_path = Path(cfg.state_dir) / f"{name}.state.pt"
    pool = _Pool(cfg, size, device)
    # The pool's sampler is part of the state: a resumed run draws the batches an uninterrupted
    # one would.
    generators = {"pool": pool.gen}
    start = 0
    warmup = cfg.warmup
    if cfg.resume and state_path.is_file():  # continue where the last checkpoint left off
        start, _ = load_state(
            state_path, modules=modules, optimizers=optimizers, generators=generators
        )
        start = min(start, warmup + steps)
    # Networks in DDP (no-ops on one process); the coarse levels stay frozen and outside it.
    g_run, i_run = wrap_ddp(generator), wrap_ddp(image_d)
    v_run = wrap_ddp(video_d) if video_d is not None else None
    use_warp = generator.use_warp
    tile = cfg.perceptual_tile if 0 < cfg.perceptual_tile < size else None

    def warmup_fn() -> dict:
        # Supervised single steps, no discriminators: for `warmup_batch` random (clip, t) the
        # generator makes frame t from the real previous frames — or from none (the clip's
        # first frame) for half of them — and learns the flow and mask on their exact targets
        # and the hallucinated image by a class-balanced L1. The paper trains a single-frame
        # generator and a flow network first; this is the course's cheap equivalent.
        labels, previous, frame, flow, conf = pool.sample_steps(cfg.warmup_batch)
        n = labels.shape[0]
        has_previous = torch.arange(n, device=labels.device) % 2 == 0
        previous = previous * has_previous.view(n, 1, 1, 1, 1)
        out = g_run(labels, previous, has_previous)
        # L1 on h̃ only: through the composite it would also pull the flow around
        terms = {"l1": LOSS_WEIGHTS["l1"] * class_balanced_l1(out["h"], frame, labels[:, -1])}
        if generator.use_warp and cfg.flow != "none":
            rows = has_previous.nonzero().flatten()
            terms |= flow_losses(
                out["flow"][rows], out["mask"][rows], previous[rows, -1], None,
                flow[rows], conf[rows], flow_source=cfg.flow,
            )  # fmt: skip
        total = cast(torch.Tensor, sum(terms.values()))
        opt_w.zero_grad(set_to_none=True)
        total.backward()
        opt_w.step()
        return {f"warmup_{k}": float(v.detach()) for k, v in terms.items()}

    def step_fn(step: int) -> dict:
        if step < warmup:
            return warmup_fn()
        frames, labels, flow, conf, given = pool.sample()
        fake = generate_clip(g_run, labels, given=frames[:, :given] if given else None)
        g_terms = generator_losses(
            fake,
            frames,
            labels,
            flow,
            conf,
            image_d=i_run,
            video_d=v_run,
            perceptual=perceptual,
            perceptual_tile=tile,
            flow_source=cfg.flow,
            use_warp=use_warp,
            start=given,
        )
        opt_g.zero_grad(set_to_none=True)
        g_terms["total"].backward()
        opt_g.step()
        d_terms = discriminator_losses(
            fake, frames, labels, flow, image_d=i_run, video_d=v_run, start=given
        )
        opt_d.zero_grad(set_to_none=True)
        d_terms["total"].backward()
        opt_d.step()
        out = {f"G_{k}" if k == "total" else k: float(v.detach()) for k, v in g_terms.items()}
        out.update({f"D_{k}" if k == "total" else k: float(v.detach()) for k, v in d_terms.items()})
        return out

    def on_checkpoint(done: int) -> None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        save_state(
            state_path,
            step=done,
            modules=modules,
            optimizers=optimizers,
            generators=generators,
            extra={"stage": stage, "config": dataclasses.asdict(cfg)},
        )
        barrier()

    history = run_steps(
        step_fn,
        steps=warmup + steps,
        start_step=start,
        desc=f"vid2vid {cfg.variant} {stage} {size}²",
        checkpoint_every=cfg.checkpoint_every,
        on_checkpoint=on_checkpoint,
        enabled=cfg.progress,
    )
    unwrap(g_run)
    starts[stage] = start
    return history


def train(cfg: TrainConfig | None = None, **overrides: object) -> tuple[Vid2VidGenerator, dict]:
    """Train a vid2vid generator; returns ``(generator in eval mode on the CPU, report)``.

    ``report`` holds the per-stage loss histories, wall and CPU seconds and the config.
    """
    cfg = dataclasses.replace(cfg or TrainConfig(), **overrides).validate()
    device = init_distributed(cfg.device)
    seed_everything(cfg.seed, deterministic=False)
    # thread count and deterministic mode are both restored afterwards
    with cpu_threads(cfg.threads), deterministic_algorithms(device.type == "cpu"):
        return _train(cfg, device)


def _train(cfg: TrainConfig, device: torch.device) -> tuple[Vid2VidGenerator, dict]:
    perceptual = _perceptual(cfg.perceptual, device)
    warp = cfg.variant != "no_warp"
    zero_flow = cfg.variant == "copy"
    t0, cpu0 = time.perf_counter(), cpu_seconds()
    histories, starts = {}, {}
    torch.manual_seed(cfg.seed)
    if cfg.levels == 2:
        coarse = Vid2VidGenerator(
            width=cfg.width, blocks=cfg.blocks, norm=cfg.norm, warp=warp, zero_flow=zero_flow
        )
        histories["coarse"] = _train_stage(
            cfg,
            coarse,
            size=cfg.size // 2,
            steps=cfg.coarse_steps,
            stage="coarse",
            device=device,
            perceptual=perceptual,
            starts=starts,
        )
        torch.manual_seed(cfg.seed + 1)
        generator = Vid2VidGenerator(
            coarse=coarse, blocks=cfg.fine_blocks, norm=cfg.norm, warp=warp, zero_flow=zero_flow
        )
        generator.freeze_coarse()
        stage = "fine"
    else:
        generator = Vid2VidGenerator(
            width=cfg.width, blocks=cfg.blocks, norm=cfg.norm, warp=warp, zero_flow=zero_flow
        )
        stage = "single"
    histories[stage] = _train_stage(
        cfg,
        generator,
        size=cfg.size,
        steps=cfg.steps,
        stage=stage,
        device=device,
        perceptual=perceptual,
        starts=starts,
    )
    generator = generator.cpu().eval().requires_grad_(False)
    report = {
        "config": dataclasses.asdict(cfg),
        "history": histories,
        "resumed_from": starts,
        "wall_s": time.perf_counter() - t0,
        "cpu_s": cpu_seconds() - cpu0,
        "perceptual": "none" if perceptual is None else perceptual.backend,
        "world_size": world_size(),
    }
    if cfg.out is not None and is_main_process():
        save_generator(generator, cfg, report, cfg.out)
    barrier()
    return generator, report


def _mean_last(history: list[dict], key: str, n: int = 20) -> float | None:
    values = [h[key] for h in history[-n:] if key in h]
    return round(sum(values) / len(values), 4) if values else None


def save_generator(
    generator: Vid2VidGenerator, cfg: TrainConfig, report: dict, out: str | Path
) -> Path:
    """Write ``out/<variant>.safetensors`` (float16) and its manifest entry."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    key = manifest_key(cfg.variant, cfg.seed)
    name = f"{key}.safetensors"
    sha = write_weights(out / name, half_precision(generator.state_dict()))
    last = report["history"][list(report["history"])[-1]]
    entry = {
        "file": name,
        "sha256": sha,
        "variant": cfg.variant,
        "flow": cfg.flow,
        "generator": generator.config,
        "size": cfg.size,
        "levels": cfg.levels,
        "steps": {
            k: len(v) + report["resumed_from"].get(k, 0) for k, v in report["history"].items()
        },
        "resumed_from": {k: v for k, v in report["resumed_from"].items() if v},
        "batch": cfg.batch,
        "frames": cfg.frames,
        "seed": cfg.seed,
        "perceptual": report["perceptual"],
        "final_losses": {k: _mean_last(last, k) for k in sorted(last[-1])} if last else {},
        "wall_s": round(report["wall_s"], 1),
        "cpu_s": round(report["cpu_s"], 1),
        "command": cfg.retrain_command(),
    }
    update_manifest(out, key, entry)
    return out / name


_CHOICES = {
    "variant": VARIANTS,
    "flow": FLOW_SOURCES,
    "levels": (1, 2),
    "perceptual": ("course", "vgg19", "auto", "none"),
    "norm": ("batch", "instance", "none"),
}
_TYPES = {
    "lr": arguments.positive_float,
    "warmup_lr": arguments.positive_float,
    "camera_speed": arguments.positive_float,
    "perceptual_tile": arguments.non_negative_int,
    "warmup": arguments.non_negative_int,
    "real_start": arguments.non_negative_float,
    "seed": arguments.non_negative_int,
    "checkpoint_every": arguments.non_negative_int,
    "device": arguments.device,
    **{
        name: arguments.positive_int
        for name in (
            "size", "steps", "coarse_steps", "batch", "frames", "clips", "clip_frames", "width",
            "warmup_batch",
            "blocks", "fine_blocks", "d_width", "temporal_scales", "threads",
        )
    },
}  # fmt: skip


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """The run's :class:`TrainConfig` from the command line; a bad value or combination ends
    with argparse's one-line ``error:`` (exit status 2)."""
    parser = argparse.ArgumentParser(
        prog="python -m lib.train vid2vid", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--preset", choices=sorted(PRESETS), default="cpu")
    defaults = TrainConfig()
    for f in dataclasses.fields(TrainConfig):
        if f.name in ("progress",):
            continue
        flag = "--" + f.name.replace("_", "-")
        value = getattr(defaults, f.name)
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true", default=None)
        elif f.name in _CHOICES:
            parser.add_argument(flag, choices=_CHOICES[f.name], type=type(value), default=None)
        else:
            kind = _TYPES.get(f.name, type(value) if value is not None else str)
            parser.add_argument(flag, type=kind, default=None)
    parser.add_argument("--no-progress", action="store_true")
    args = vars(parser.parse_args(argv))
    values = dict(PRESETS[args.pop("preset")])
    values["progress"] = not args.pop("no_progress")
    values.update({k: v for k, v in args.items() if v is not None})
    try:  # the combinations argparse cannot check alone (frames against scales, size, …)
        return TrainConfig(**values).validate()
    except ValueError as exc:
        parser.error(str(exc))


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    _, report = train(cfg)
    if is_main_process():
        print(
            f"trained {cfg.variant} ({cfg.flow} flow, {cfg.size}², {cfg.levels} level(s)) in "
            f"{report['wall_s']:.0f} s wall, {report['cpu_s']:.0f} s CPU, "
            f"{report['world_size']} process(es)",
            file=sys.stderr,
        )
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())

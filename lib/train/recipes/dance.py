"""Train Everybody Dance Now on the dancing puppet, and the keypoint regressor that evaluates it.

    python -m lib.train dance                         # the full model, 64², about 4 CPU minutes
    python -m lib.train dance --variant no_temporal   # the per-frame ablation
    python -m lib.train dance --variant keypoints     # the pose-distance keypoint regressor
    python -m lib.train dance --size 256 --steps 20000 --face-steps 5000 --batch 8 \\
        --width 64 --blocks 9 --downsamples 4 --device cuda   # GPU parameters, larger model
    torchrun --nproc_per_node 4 -m lib.train dance --device cuda ...   # data-parallel

Motion-transfer variants (``full``, ``no_temporal``): the target is the ``short`` puppet dancing
``--frames`` frames of dance seed 11 (``Recipe.data_seed``); the generator learns its own stick
figures → its own frames. Steps ``0 … steps − 1`` train the body generator and its pair
discriminator (Adam 2e-4, β = (0.5, 0.999), one D step per G step), the following
``face_steps`` steps train the face residual GAN with the body generator frozen (as in the
paper). Loss weights: :data:`lib.models.dance.LOSS_WEIGHTS`.

The final weights go to ``<out>/<variant>.safetensors`` (float16) with an entry in
``<out>/manifest.json``: the configuration, the recipe, the loss history (every 10th step),
final losses, wall and CPU seconds, the command. A resumable state (networks, optimisers, RNG)
is written every ``--checkpoint-every`` steps to ``--state`` (default
``data/cache/dance/<variant>.state``, not committed); ``--resume`` continues from it. Batches
are drawn from a generator seeded by ``(seed, step, rank)``, so a resumed run draws the batches
an uninterrupted one would.

Under ``torchrun`` each process draws its own batches (``rank`` in the seed), the networks are
wrapped in DistributedDataParallel and rank 0 writes the files.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import cast

import torch
import torch.nn.functional as F

from lib._checks import check_choice, check_positive_int
from lib.datasets.puppet import dance_clip, render_puppet
from lib.features.perceptual import perceptual_loss, perceptual_net
from lib.models.dance import (
    DANCE_DIR,
    LOSS_WEIGHTS,
    DanceConfig,
    DanceModel,
    KeypointRegressor,
    crop_windows,
    face_corners,
    face_discriminator,
    pair_discriminator,
)
from lib.models.dance_pose import normalise_poses
from lib.models.pix2pixhd import feature_matching_loss, lsgan_loss
from lib.paths import DATA_DIR
from lib.train import arguments
from lib.train.distributed import barrier, is_main_process, rank
from lib.train.loop import init_distributed, load_state, run_steps, save_state, unwrap, wrap_ddp
from lib.train.seeding import seed_everything
from lib.weights import half_precision, update_manifest, write_weights

TARGET = "short"
SOURCE = "tall"
STATE_DIR = DATA_DIR / "cache" / "dance"
VARIANT_CHOICES = ("full", "no_temporal", "keypoints")


@dataclass(frozen=True)
class Recipe:
    """One training run (the defaults made the committed files, on one CPU thread)."""

    variant: str = "full"
    size: int = 64
    steps: int = 1000  # body generator steps (keypoints: regressor steps)
    face_steps: int = 300
    batch: int = 4  # pairs of consecutive frames per step (keypoints: images)
    face_batch: int = 8
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    frames: int = 600
    data_seed: int = 11
    seed: int = 0
    width: int = 16
    blocks: int = 4
    downsamples: int = 2
    perceptual: str = "course"  # "course", "vgg19" or "auto"
    weights: dict = field(default_factory=lambda: dict(LOSS_WEIGHTS))

    def config(self) -> DanceConfig:
        return DanceConfig(
            size=self.size,
            temporal=self.variant != "no_temporal",
            width=self.width,
            downsamples=self.downsamples,
            blocks=self.blocks,
            face_crop=max(4, 4 * round(self.size / 16)),
        )


# ------------------------------------------------------------------------------------- data
def target_clip(
    recipe: Recipe, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The target's training clip: frames, stick figures, poses (on ``device``)."""
    clip = dance_clip(TARGET, recipe.frames, size=recipe.size, seed=recipe.data_seed)
    return (
        clip.frames.to(device),
        clip.stick_figures.to(device),
        clip.poses,
    )


def _batch_generator(recipe: Recipe, step: int) -> torch.Generator:
    return torch.Generator().manual_seed((recipe.seed * 1_000_003 + step) * 997 + rank())


# ---------------------------------------------------------------------------- training state
def _resumed_step(
    state_path: Path | None,
    resume: bool,
    modules: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    device: torch.device,
) -> int:
    """0, or with ``resume`` the step of the state at ``state_path``, loaded into ``modules``
    and ``optimizers``."""
    if not resume:
        return 0
    if state_path is None or not Path(state_path).is_file():
        raise FileNotFoundError(f"--resume: no training state at {state_path}")
    start, _ = load_state(state_path, modules=modules, optimizers=optimizers, map_location=device)
    return start


def _checkpointer(
    state_path: Path | None,
    modules: Mapping[str, torch.nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    extra: dict | None = None,
) -> Callable[[int], None]:
    """``on_checkpoint(step)`` for :func:`lib.train.loop.run_steps`: the state at
    ``state_path``, or nothing without one."""

    def on_checkpoint(done: int) -> None:
        if state_path is not None:
            Path(state_path).parent.mkdir(parents=True, exist_ok=True)
            save_state(state_path, step=done, modules=modules, optimizers=optimizers, extra=extra)

    return on_checkpoint


# ----------------------------------------------------------------------- motion transfer
def train_transfer(
    recipe: Recipe,
    *,
    device: str | torch.device = "cpu",
    state_path: Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 100,
    progress: bool = True,
) -> tuple[DanceModel, dict]:
    """Train the body generator (``recipe.steps``) and then the face GAN
    (``recipe.face_steps``); returns the model (unwrapped, eval mode) and the run's record."""
    check_choice(recipe.variant, "variant", ("full", "no_temporal"))
    device = torch.device(device)
    seed_everything(recipe.seed, deterministic=False)
    config = recipe.config()
    temporal = config.temporal
    frames, sticks, poses = target_clip(recipe, device)
    corners, _ = face_corners(poses, config.size, config.face_crop)
    model = DanceModel(config).to(device)
    d_body = pair_discriminator(config).to(device)
    d_face = face_discriminator(config).to(device)
    G, D, Ff, Df = (wrap_ddp(m) for m in (model.generator, d_body, model.face, d_face))
    betas = (recipe.beta1, recipe.beta2)
    opt = {
        "g": torch.optim.Adam(model.generator.parameters(), recipe.lr, betas=betas),
        "d": torch.optim.Adam(d_body.parameters(), recipe.lr, betas=betas),
        "f": torch.optim.Adam(model.face.parameters(), recipe.lr, betas=betas),
        "df": torch.optim.Adam(d_face.parameters(), recipe.lr, betas=betas),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        pnet = perceptual_net(backend=recipe.perceptual, device=device)
    w = recipe.weights
    total = recipe.steps + recipe.face_steps
    modules = {"generator": model.generator, "face": model.face, "d": d_body, "d_face": d_face}
    start = _resumed_step(state_path, resume, modules, opt, device)
    n_pairs = frames.shape[0] - 1

    def g_losses(fake_out, real_out, fake_img, real_img) -> dict:
        return {
            "gan": lsgan_loss(fake_out, True),
            "fm": feature_matching_loss(fake_out, real_out),
            "perceptual": perceptual_loss(pnet, fake_img, real_img),
            "l1": (fake_img - real_img).abs().mean(),
        }

    def total_g(parts: dict) -> torch.Tensor:
        return (
            w["gan"] * parts["gan"]
            + w["feature_matching"] * parts["fm"]
            + w["perceptual"] * parts["perceptual"]
            + w["l1"] * parts["l1"]
        )

    def split(outputs, n):
        """D(cat([fake, real])) → (fake outputs, real outputs)."""
        if isinstance(outputs[0], list):
            return [[t[:n] for t in s] for s in outputs], [[t[n:] for t in s] for s in outputs]
        return [t[:n] for t in outputs], [t[n:] for t in outputs]

    def body_step(step: int) -> dict:
        gen = _batch_generator(recipe, step)
        idx = torch.randint(0, n_pairs, (recipe.batch,), generator=gen).to(device)
        s0, s1, r0, r1 = sticks[idx], sticks[idx + 1], frames[idx], frames[idx + 1]
        if temporal:
            x0 = G(s0)
            x1 = G(s1, x0)  # conditioned on the generated frame: gradients flow through both
            fake = torch.cat([s0, s1, x0, x1], 1)
            real = torch.cat([s0, s1, r0, r1], 1)
        else:
            s, r = torch.cat([s0, s1]), torch.cat([r0, r1])
            x0, x1 = G(s).chunk(2)
            fake = torch.cat([s, torch.cat([x0, x1])], 1)
            real = torch.cat([s, r], 1)
        n = fake.shape[0]
        # discriminator
        fo, ro = split(D(torch.cat([fake.detach(), real])), n)
        loss_d = 0.5 * (lsgan_loss(fo, False) + lsgan_loss(ro, True))
        opt["d"].zero_grad(set_to_none=True)
        loss_d.backward()
        opt["d"].step()
        # generator
        fo, ro = split(D(torch.cat([fake, real])), n)
        parts = g_losses(fo, ro, torch.cat([x0, x1]), torch.cat([r0, r1]))
        loss_g = total_g(parts)
        opt["g"].zero_grad(set_to_none=True)
        loss_g.backward()
        opt["g"].step()
        return {"g": loss_g.detach(), "d": loss_d.detach(), "l1": parts["l1"].detach()}

    def face_step(step: int) -> dict:
        gen = _batch_generator(recipe, step)
        idx = torch.randint(1, n_pairs + 1, (recipe.face_batch,), generator=gen)
        c = config.face_crop
        with torch.no_grad():
            g = unwrap(G)
            idx_d = idx.to(device)
            if temporal:
                x = g(sticks[idx_d], g(sticks[idx_d - 1]))
            else:
                x = g(sticks[idx_d])
        cs = corners[idx]
        face = crop_windows(x, cs, c)
        pose = crop_windows(sticks[idx_d], cs, c)
        real = crop_windows(frames[idx_d], cs, c)
        out = (face + Ff(pose, face)).clamp(0, 1)
        fake_in, real_in = torch.cat([pose, out], 1), torch.cat([pose, real], 1)
        n = fake_in.shape[0]
        fo, ro = split(Df(torch.cat([fake_in.detach(), real_in])), n)
        loss_d = 0.5 * (lsgan_loss(fo, False) + lsgan_loss(ro, True))
        opt["df"].zero_grad(set_to_none=True)
        loss_d.backward()
        opt["df"].step()
        fo, ro = split(Df(torch.cat([fake_in, real_in])), n)
        parts = g_losses(fo, ro, out, real)
        loss_f = total_g(parts)
        opt["f"].zero_grad(set_to_none=True)
        loss_f.backward()
        opt["f"].step()
        return {
            "face_g": loss_f.detach(),
            "face_d": loss_d.detach(),
            "face_l1": parts["l1"].detach(),
        }

    def step_fn(step: int) -> dict:
        return body_step(step) if step < recipe.steps else face_step(step)

    on_checkpoint = _checkpointer(state_path, modules, opt, extra={"variant": recipe.variant})

    t0 = time.perf_counter()
    history = run_steps(
        step_fn,
        steps=total,
        start_step=start,
        desc=f"dance {recipe.variant}",
        checkpoint_every=checkpoint_every,
        on_checkpoint=on_checkpoint,
        enabled=progress,
    )
    record = {
        "history": history,
        "wall_seconds": time.perf_counter() - t0,
        "start_step": start,
        "perceptual": pnet.describe().splitlines()[0],
    }
    return model.eval(), record


# --------------------------------------------------------------------------- keypoint regressor
def keypoint_training_set(size: int, seed: int = 101) -> tuple[torch.Tensor, torch.Tensor]:
    """Images and keypoints for the regressor: the target dancing two dances, the target's look
    on the source's normalised poses (what a motion transfer produces) and the source itself."""
    a = dance_clip(TARGET, 900, size=size, seed=seed)
    b = dance_clip(SOURCE, 600, size=size, seed=seed + 1)
    c = dance_clip(TARGET, 600, size=size, seed=seed + 2)
    moved = normalise_poses(b.poses, c.poses).float()
    frames_m, _, _ = render_puppet(TARGET, moved, size)
    images = torch.cat([a.frames, frames_m, b.frames])
    keypoints = torch.cat([a.poses, moved, b.poses])
    return images, keypoints


def _augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Blur half the batch (generated frames are softer than renders) and add a little noise."""
    blur = torch.rand(x.shape[0], generator=gen) < 0.5
    soft = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, stride=1)
    x = torch.where(blur.view(-1, 1, 1, 1).to(x.device), soft, x)
    return (x + 0.02 * torch.randn(x.shape, generator=gen).to(x.device)).clamp(0, 1)


def train_keypoints(
    recipe: Recipe,
    *,
    device: str | torch.device = "cpu",
    state_path: Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 100,
    progress: bool = True,
) -> tuple[KeypointRegressor, dict]:
    """Train :class:`KeypointRegressor` with an L1 loss on soft-argmax coordinates (Adam 2e-3
    with cosine decay); returns the network and the run's record (held-out pixel error)."""
    device = torch.device(device)
    seed_everything(recipe.seed, deterministic=False)
    images, keypoints = keypoint_training_set(recipe.size)
    images, keypoints = images.to(device), keypoints.to(device)
    net = KeypointRegressor(recipe.size).to(device)
    model = wrap_ddp(net)
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, recipe.steps) / recipe.steps))
    )
    start = _resumed_step(state_path, resume, {"net": net}, {"opt": opt}, device)
    for _ in range(start):
        sched.step()

    def step_fn(step: int) -> dict:
        gen = _batch_generator(recipe, step)
        idx = torch.randint(0, images.shape[0], (recipe.batch,), generator=gen).to(device)
        x = _augment(images[idx], gen)
        loss = (model(x) - keypoints[idx]).abs().mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        return {"l1": loss.detach()}

    on_checkpoint = _checkpointer(state_path, {"net": net}, {"opt": opt})

    t0 = time.perf_counter()
    history = run_steps(
        step_fn,
        steps=recipe.steps,
        start_step=start,
        desc="keypoints",
        checkpoint_every=checkpoint_every,
        on_checkpoint=on_checkpoint,
        enabled=progress,
    )
    wall = time.perf_counter() - t0
    test = dance_clip(TARGET, 200, size=recipe.size, seed=recipe.data_seed + 1000)
    err = (net.eval().predict(test.frames) - test.poses).norm(dim=-1).mean()
    return net.eval(), {
        "history": history,
        "wall_seconds": wall,
        "start_step": start,
        "test_error_px": round(float(err), 4),
    }


# ----------------------------------------------------------------------------------- saving
def _final_losses(history: list[dict], last: int = 50) -> dict:
    keys = sorted({k for h in history for k in h})
    out = {}
    for k in keys:
        values = [h[k] for h in history if k in h][-last:]
        if values:
            out[k] = round(sum(values) / len(values), 5)
    return out


def _recipe_fields(recipe: Recipe) -> dict:
    """The recipe as a dict, without the fields a keypoint run does not use."""
    fields = asdict(recipe)
    if recipe.variant == "keypoints":
        keep = ("variant", "size", "steps", "batch", "seed")
        fields = {k: fields[k] for k in keep}
        fields["lr"] = 2e-3
    return fields


def save_run(net: torch.nn.Module, recipe: Recipe, record: dict, out: Path, command: str) -> dict:
    """Write ``<out>/<variant>.safetensors`` (float16) and its manifest entry; returns the entry."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    name = f"{recipe.variant}.safetensors"
    sha = write_weights(out / name, half_precision(unwrap(net).state_dict()))
    if recipe.variant == "keypoints":
        config = {"size": net.size, "width": net.width, "joints": net.joints}
    else:
        config = cast(DanceModel, net).config.to_dict()  # every other variant is a DanceModel
    history = record["history"]
    entry = {
        "file": name,
        "sha256": sha,
        "config": config,
        "recipe": _recipe_fields(recipe),
        "final_losses": _final_losses(history),
        "history_every_10": [{k: round(v, 5) for k, v in h.items()} for h in history[::10]],
        "wall_seconds": round(record["wall_seconds"], 1),
        "cpu_seconds": round(record.get("cpu_seconds", float("nan")), 1),
        "device": record.get("device", "cpu"),
        "threads": record.get("threads", 1),
        "command": command,
        "torch": torch.__version__,
    }
    for key in ("test_error_px", "perceptual"):
        if key in record:
            entry[key] = record[key]
    update_manifest(out, recipe.variant, entry)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.train dance",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--variant", choices=VARIANT_CHOICES, default="full")
    parser.add_argument(
        "--steps",
        type=arguments.positive_int,
        default=None,
        help="body (or regressor) steps; default 1000 (keypoints: 500)",
    )
    parser.add_argument("--face-steps", type=arguments.non_negative_int, default=Recipe.face_steps)
    parser.add_argument("--size", type=arguments.positive_int, default=Recipe.size)
    parser.add_argument(
        "--batch",
        type=arguments.positive_int,
        default=None,
        help="pairs per step (default 4; keypoints: 16 images)",
    )
    parser.add_argument("--width", type=arguments.positive_int, default=Recipe.width)
    parser.add_argument("--blocks", type=arguments.non_negative_int, default=Recipe.blocks)
    parser.add_argument(
        "--downsamples", type=arguments.non_negative_int, default=Recipe.downsamples
    )
    parser.add_argument(
        "--frames",
        type=arguments.int_at_least(2),
        default=Recipe.frames,
        help="frames of the target's clip (pairs of consecutive frames are drawn from it)",
    )
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0)
    parser.add_argument(
        "--device", type=arguments.device, default="cpu", help="cpu, cuda, auto (default cpu)"
    )
    parser.add_argument("--out", type=Path, default=DANCE_DIR)
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="resumable training state (default data/cache/dance/<variant>.state)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from --state")
    parser.add_argument("--checkpoint-every", type=arguments.non_negative_int, default=100)
    parser.add_argument(
        "--threads",
        type=arguments.positive_int,
        default=1,
        help="CPU threads (default 1: the machine is shared; small networks)",
    )
    parser.add_argument("--perceptual", choices=("course", "vgg19", "auto"), default="course")
    args = parser.parse_args(argv)
    keypoints = args.variant == "keypoints"
    steps = args.steps if args.steps is not None else (500 if keypoints else Recipe.steps)
    batch = args.batch if args.batch is not None else (16 if keypoints else Recipe.batch)
    recipe = replace(
        Recipe(),
        variant=args.variant,
        steps=check_positive_int(steps, "steps"),
        face_steps=check_positive_int(args.face_steps, "face-steps", minimum=0),
        size=args.size,
        batch=check_positive_int(batch, "batch"),
        width=args.width,
        blocks=args.blocks,
        downsamples=args.downsamples,
        frames=args.frames,
        seed=args.seed,
        perceptual=args.perceptual,
    )
    if not keypoints:
        try:  # the network's own checks (size against downsamples, …)
            recipe.config()
        except (TypeError, ValueError) as exc:
            parser.error(str(exc))
    torch.set_num_threads(args.threads)
    device = init_distributed(args.device)
    state = args.state or STATE_DIR / f"{args.variant}.state"
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    train = train_keypoints if keypoints else train_transfer
    net, record = train(
        recipe,
        device=device,
        state_path=state,
        resume=args.resume,
        checkpoint_every=args.checkpoint_every,
    )
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    record["cpu_seconds"] = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    record["device"], record["threads"] = str(device), args.threads
    if is_main_process():
        command = "python -m lib.train dance " + " ".join(sys.argv[1:] if argv is None else argv)
        entry = save_run(net, recipe, record, args.out, command.strip())
        print(
            f"{args.variant}: {args.out / entry['file']}, final losses {entry['final_losses']}, "
            f"{entry['wall_seconds']} s wall, {entry['cpu_seconds']} s CPU"
            + (f", held-out error {entry['test_error_px']} px" if keypoints else "")
        )
    barrier()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Train the course's class-conditional DCGAN and save its generator along the way.

    python -m lib.train dcgan --dataset shapes
    python -m lib.train dcgan --dataset digits --steps 3000 --out data/gan

The generator is saved (float16, under half a megabyte) at eight steps spread geometrically
along training — 0 (the untrained network), S/64, S/32, …, S/2, S — as
``<out>/<dataset>-step<k>.safetensors``, and ``<out>/manifest.json`` records each file's sha256,
the losses, the FID against real images and the share of samples the course classifier assigns
to their conditioning label (both through ``shapes-cnn`` / ``digits-cnn``), and the wall time.

Training (see :mod:`lib.models.dcgan` for the networks and the loss): hinge loss with a
projection discriminator and an auxiliary classifier, Adam with betas (0.5, 0.999), one D step
per G step, batches of 32. The discriminator learns faster than the generator (lr 1e-3 against
2e-4: the two time-scale update rule of Heusel et al. 2017, the paper that introduced FID):
with 2e-4 for both, its classifier head takes thousands of steps to tell the shapes apart, and
until it does the generator gets no signal about its class. The saved generator is an
exponential moving average of the trained one (Yazıcı et al. 2019) whose BatchNorm statistics
are re-estimated before saving. Real images: a fixed pool of ``shapes`` drawn from the seed, or
the ``digits`` train split with random shifts of up to 2 pixels. Every random number comes from
seeded generators and deterministic algorithms are enforced, so a rerun with the same torch
build, device and thread count (``--threads``, default 1) reproduces the files bit for bit.

The steps run through :func:`lib.train.loop.run_steps`: every ``--checkpoint-every`` steps G,
D, the EMA generator, both optimisers, the batch generator, the loss history and the manifest
records of the generators already saved go to ``<out>/<dataset>-state.pt``; ``--resume``
continues from it and writes the files an uninterrupted run writes. The state file is removed
once the manifest is written.

Under ``torch.distributed`` the pieces in :mod:`lib.train` (rank-aware progress bar, atomic
checkpoint writes) are ready; the loop itself is single-process — a multi-GPU run would seed
each rank's batches with ``seed + rank``, wrap G and D in DistributedDataParallel (BatchNorm as
SyncBatchNorm) and save on rank 0 only.
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F

from lib._checks import check_choice, check_positive_int
from lib.datasets import ImageSet, digits, shapes
from lib.features import get
from lib.metrics import fid
from lib.models.dcgan import (
    DATASETS,
    GAN_DIR,
    ConditionalDiscriminator,
    ConditionalGenerator,
    generate,
)
from lib.train import arguments
from lib.train.loop import resume_run, run_steps, save_state
from lib.train.seeding import deterministic_algorithms
from lib.weights import half_precision, update_manifest, write_weights

CLASSIFIER = {"shapes": "shapes-cnn", "digits": "digits-cnn"}
FID_REAL_SEED = 777_777  # held-out shapes for the FID reference, never used in training
EVAL_SEED = 123_456  # the noise of the evaluation samples


@dataclass(frozen=True)
class Recipe:
    """Hyper-parameters of one training run (the defaults made the committed checkpoints)."""

    steps: int = 3200
    batch_size: int = 32
    lr_g: float = 2e-4
    lr_d: float = 1e-3  # two time-scale update rule (Heusel et al. 2017, §2)
    beta1: float = 0.5
    beta2: float = 0.999
    aux_weight: float = 1.0  # weight λ of the auxiliary classification loss (0 turns it off)
    ema_decay: float = 0.99  # 0 saves the trained generator itself
    real_images: int = 30_000  # shapes: size of the pool of real images
    shift: int = 2  # digits: random translation in pixels (the set is small)
    g_widths: tuple[int, ...] = (64, 64, 32, 16)
    d_widths: tuple[int, ...] = (32, 64, 128)
    minibatch_std: bool = True
    checkpoints: int = 8
    eval_images: int = 2000


# Steps of the default run of each data set (the digits are learnt faster).
DEFAULT_STEPS = {"shapes": 3200, "digits": 1600}


def checkpoint_schedule(steps: int, count: int = 8) -> list[int]:
    """``count`` steps from 0 to ``steps``, geometric after 0: 0, S/2^(count−2), …, S/2, S."""
    check_positive_int(steps, "steps")
    check_positive_int(count, "count", minimum=2)
    chosen = {0, steps}
    for k in range(1, count - 1):
        chosen.add(max(1, round(steps / 2**k)))
    return sorted(chosen)


def real_images(dataset: str, recipe: Recipe, seed: int) -> ImageSet:
    """The real training images: a pool of ``shapes`` from ``seed``, or the digits train split."""
    check_choice(dataset, "dataset", tuple(DATASETS))
    if dataset == "shapes":
        return shapes(recipe.real_images, seed=seed * 1000 + 1)
    return digits("train")


def _random_shift(x: torch.Tensor, pixels: int, gen: torch.Generator) -> torch.Tensor:
    """Translate each image by up to ``pixels`` in x and y (zero padding), in one gather."""
    if pixels <= 0:
        return x
    n, _, h, w = x.shape
    padded = F.pad(x, (pixels,) * 4)
    dx = torch.randint(0, 2 * pixels + 1, (n,), generator=gen)
    dy = torch.randint(0, 2 * pixels + 1, (n,), generator=gen)
    rows = (dy[:, None] + torch.arange(h)[None]).to(x.device)  # n×h
    cols = (dx[:, None] + torch.arange(w)[None]).to(x.device)  # n×w
    idx = torch.arange(n, device=x.device)[:, None, None]
    return padded.permute(0, 2, 3, 1)[idx, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


@torch.no_grad()
def _ema_update(ema: ConditionalGenerator, net: ConditionalGenerator, decay: float) -> None:
    for target, source in zip(ema.parameters(), net.parameters(), strict=True):
        target.lerp_(source, 1 - decay)


@torch.no_grad()
def recalibrate_batchnorm(
    generator: ConditionalGenerator, *, batches: int = 8, batch_size: int = 256, seed: int = 0
) -> ConditionalGenerator:
    """Re-estimate the BatchNorm running statistics of ``generator`` (in place) as the exact
    average over ``batches`` batches of balanced-class noise: averaged (EMA) weights need
    statistics of their own, not those of the network they were averaged from."""
    gen = torch.Generator().manual_seed(seed)
    device = next(generator.parameters()).device
    norms = [m for m in generator.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    generator.train()
    for _ in range(batches):
        z = torch.randn(batch_size, generator.z_dim, generator=gen)
        y = torch.randperm(batch_size, generator=gen) % generator.num_classes
        generator(z.to(device), y.to(device))
    for m in norms:
        m.momentum = 0.1
    return generator.eval()


def train(
    dataset: str = "shapes",
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    data: ImageSet | None = None,
    on_checkpoint: Callable[[int, ConditionalGenerator, dict], dict | None] | None = None,
    checkpoint_at: list[int] | None = None,
    device: str | torch.device = "cpu",
    show_progress: bool = True,
    state_path: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 0,
) -> tuple[ConditionalGenerator, ConditionalDiscriminator, dict]:
    """Train a generator/discriminator pair on ``dataset`` and return ``(G_saved, D, history)``.

    ``G_saved`` is the EMA generator (or the trained one when ``recipe.ema_decay`` is 0) in eval
    mode. ``data`` replaces the real images (labelled, N×C×32×32). At every step in
    ``checkpoint_at`` (default :func:`checkpoint_schedule`) ``on_checkpoint(step, G_saved,
    stats)`` is called with BatchNorm statistics recalibrated and the mean losses since the
    previous checkpoint in ``stats``; what it returns (a JSON-friendly record, or ``None``) is
    kept in ``history["checkpoints"]``. ``history`` holds the per-step losses.

    With ``state_path`` a resumable state (G, D, the EMA generator, both optimisers, the batch
    generator, the loss history and the records) is written every ``checkpoint_every`` steps
    and at the end (:func:`lib.train.loop.save_state`); ``resume`` continues from it — the run
    must have the same data set, recipe and seed — and ends as an uninterrupted run would.
    """
    check_choice(dataset, "dataset", tuple(DATASETS))
    check_positive_int(recipe.steps, "steps")
    check_positive_int(recipe.batch_size, "batch_size", minimum=2)
    channels, class_names = DATASETS[dataset]
    data = real_images(dataset, recipe, seed) if data is None else data
    if data.labels is None or data.images.shape[1:] != (channels, 32, 32):
        raise ValueError(
            f"data: expected labelled {channels}×32×32 images for {dataset!r}, got {data!r}"
        )
    device = torch.device(device)
    checkpoint_at = (
        checkpoint_schedule(recipe.steps, recipe.checkpoints)
        if checkpoint_at is None
        else sorted(set(checkpoint_at))
    )
    config = {"dataset": dataset, "seed": seed, "recipe": _plain(asdict(recipe))}
    with deterministic_algorithms(True):
        torch.manual_seed(seed)  # initial weights
        g = ConditionalGenerator(channels, len(class_names), widths=recipe.g_widths).to(device)
        d = ConditionalDiscriminator(
            channels,
            len(class_names),
            widths=recipe.d_widths,
            minibatch_std=recipe.minibatch_std,
        ).to(device)
        ema = copy.deepcopy(g).eval() if recipe.ema_decay > 0 else g
        betas = (recipe.beta1, recipe.beta2)
        opt_g = torch.optim.Adam(g.parameters(), lr=recipe.lr_g, betas=betas)
        opt_d = torch.optim.Adam(d.parameters(), lr=recipe.lr_d, betas=betas)
        gen = torch.Generator().manual_seed(seed * 1000 + 2)
        images, labels = data.images, data.labels
        history: dict[str, Any] = {"d_loss": [], "g_loss": [], "aux_real_acc": []}
        records: list[dict] = []
        shift = recipe.shift if dataset == "digits" else 0
        timer = {"train_seconds": 0.0}
        modules = {"g": g, "d": d} | ({"ema": ema} if ema is not g else {})
        state = {
            "modules": modules,
            "optimizers": {"g": opt_g, "d": opt_d},
            "generators": {"batches": gen},
        }
        done = 0
        if resume:
            done, extra = resume_run(state_path, config, **state)
            history = {k: [float(x) for x in v] for k, v in extra["history"].items()}
            records = list(extra["records"])
            timer["train_seconds"] = float(extra["train_seconds"])

        def checkpoint(step: int) -> None:
            if on_checkpoint is None:
                return
            saved = copy.deepcopy(ema)
            recalibrate_batchnorm(saved, seed=seed * 1000 + 3)
            # The mean losses since the previous step of the schedule (0 before the first).
            since = max([0, *(c for c in checkpoint_at if c < step)])
            recent = slice(since, step) if step > since else slice(0, 0)
            stats = {
                key: (round(sum(v[recent]) / len(v[recent]), 4) if v[recent] else None)
                for key, v in history.items()
            }
            stats["train_seconds"] = round(timer["train_seconds"], 1)
            record = on_checkpoint(step, saved.cpu(), stats)
            if record is not None:
                records.append(record)

        def step_fn(index: int) -> dict[str, float]:
            step = index + 1  # steps are counted from 1: step k has made k updates
            start = time.perf_counter()
            g.train()
            idx = torch.randint(0, len(images), (recipe.batch_size,), generator=gen)
            x = _random_shift(images[idx], shift, gen).to(device)
            y = labels[idx].to(device)
            z = torch.randn(recipe.batch_size, g.z_dim, generator=gen).to(device)
            y_fake = torch.randint(0, g.num_classes, (recipe.batch_size,), generator=gen)
            y_fake = y_fake.to(device)
            fake = g(z, y_fake)

            # Discriminator: hinge loss, plus classifying the real images.
            real_score = d(x, y)
            real_logits = _class_logits(d)
            fake_score = d(fake.detach(), y_fake)
            loss_d = F.relu(1 - real_score).mean() + F.relu(1 + fake_score).mean()
            if recipe.aux_weight:
                loss_d = loss_d + recipe.aux_weight * F.cross_entropy(real_logits, y)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()

            # Generator: raise the score of its samples, and have them classified as y_fake.
            loss_g = -d(fake, y_fake).mean()
            if recipe.aux_weight:
                loss_g = loss_g + recipe.aux_weight * F.cross_entropy(_class_logits(d), y_fake)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            if ema is not g:
                _ema_update(ema, g, recipe.ema_decay)

            losses = {
                "d_loss": float(loss_d.detach()),
                "g_loss": float(loss_g.detach()),
                "aux_real_acc": float((real_logits.argmax(1) == y).float().mean()),
            }
            for key, value in losses.items():
                history[key].append(value)
            timer["train_seconds"] += time.perf_counter() - start
            # Published before the state is saved: a resumed run never publishes a step twice.
            if step in checkpoint_at:
                checkpoint(step)
            return losses

        def save(steps_done: int) -> None:
            if state_path is not None:
                save_state(
                    state_path,
                    step=steps_done,
                    **state,
                    extra={
                        "config": config,
                        "history": history,
                        "records": records,
                        "train_seconds": timer["train_seconds"],
                    },
                )

        if done == 0 and 0 in checkpoint_at:
            checkpoint(0)
        if done < recipe.steps:
            run_steps(
                step_fn,
                steps=recipe.steps,
                start_step=done,
                desc=f"DCGAN {dataset}",
                checkpoint_every=checkpoint_every,
                on_checkpoint=save,
                enabled=show_progress,
            )
        final = recalibrate_batchnorm(copy.deepcopy(ema), seed=seed * 1000 + 3)
    history["train_seconds"] = timer["train_seconds"]
    history["checkpoints"] = records
    return final.eval(), d.eval(), history


def _plain(value: Any) -> Any:
    """Tuples as lists, recursively: what a training state's ``extra`` reads back as."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _class_logits(d: ConditionalDiscriminator) -> torch.Tensor:
    # Every forward pass of D sets them, and one has just run.
    return cast(torch.Tensor, d.last_class_logits)


# ------------------------------------------------------------------------------ evaluation
class Evaluator:
    """FID against real images and label accuracy, both through the course classifier of the
    data set (``shapes-cnn`` / ``digits-cnn``), on ``n`` generated images with fixed noise."""

    def __init__(self, dataset: str, n: int = 2000, *, device: str = "cpu") -> None:
        check_choice(dataset, "dataset", tuple(DATASETS))
        self.dataset, self.n = dataset, n
        self.net = get(CLASSIFIER[dataset], device=device)
        if dataset == "shapes":
            real = shapes(n, seed=FID_REAL_SEED)
            self.reference = f"{n} shapes drawn with seed {FID_REAL_SEED} (held out)"
        else:
            real = digits("all")
            self.reference = f"all {len(real)} digits"
        self.real_features = self.net.features(real.images)

    def __call__(self, generator: ConditionalGenerator) -> dict:
        fake = generate(generator, self.n, seed=EVAL_SEED)
        out = self.net.extract(fake.images, ("features", "logits"))
        predicted = out["logits"].argmax(1).cpu()
        truth = cast(torch.Tensor, fake.labels)  # generate labels every image it draws
        return {
            "fid": round(fid(self.real_features, out["features"]), 3),
            "label_accuracy": round(float((predicted == truth.cpu()).float().mean()), 4),
        }


def state_file(dataset: str, out: str | Path = GAN_DIR) -> Path:
    """Where the resumable training state of a run on ``dataset`` is kept while it runs."""
    return Path(out) / f"{dataset}-state.pt"


def train_and_save(
    dataset: str,
    recipe: Recipe = Recipe(),
    *,
    seed: int = 0,
    out: str | Path = GAN_DIR,
    log: Callable[[str], None] = print,
    resume: bool = False,
    checkpoint_every: int = 0,
    show_progress: bool = True,
) -> dict:
    """Train on ``dataset``, write the checkpoints and the manifest entry; returns the entry.

    Each checkpoint is evaluated as it is stored (float16 weights), so the manifest's numbers are
    those of what :func:`~lib.models.dcgan.load_generator` returns. Files of an earlier run of
    the same data set that the new manifest does not list are removed. The run keeps a resumable
    state in :func:`state_file` (every ``checkpoint_every`` steps; ``resume`` continues from it,
    the checkpoints already written included) and removes it once the manifest is written.
    """
    out = Path(out)
    start = time.perf_counter()
    evaluator = Evaluator(dataset, recipe.eval_images)
    state_path = state_file(dataset, out)

    def save(step: int, generator: ConditionalGenerator, stats: dict) -> dict:
        name = f"{dataset}-step{step}.safetensors"
        state = half_precision(generator.state_dict())
        digest = write_weights(out / name, state)
        stored = ConditionalGenerator(**generator.config())
        stored.load_state_dict(
            {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        )
        quality = evaluator(stored.eval())
        entry = {
            "step": step,
            "file": name,
            "sha256": digest,
            "bytes": (out / name).stat().st_size,
            **quality,
            "d_loss": stats["d_loss"],
            "g_loss": stats["g_loss"],
            "aux_real_acc": stats["aux_real_acc"],
            "train_seconds": stats["train_seconds"],
            "wall_seconds": round(time.perf_counter() - start, 1),
        }
        log(
            f"{dataset} step {step}: FID {quality['fid']:.2f}, label accuracy "
            f"{quality['label_accuracy']:.3f}, D loss {stats['d_loss']}, G loss "
            f"{stats['g_loss']}, {entry['wall_seconds']:.0f} s"
        )
        return entry

    generator, _, history = train(
        dataset,
        recipe,
        seed=seed,
        on_checkpoint=save,
        state_path=state_path,
        resume=resume,
        checkpoint_every=checkpoint_every,
        show_progress=show_progress,
    )
    checkpoints: list[dict] = history["checkpoints"]
    manifest_entry = {
        "generator": generator.config(),
        "recipe": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(recipe).items()},
        "seed": seed,
        "loss": "hinge + auxiliary classifier (weight aux_weight), projection discriminator",
        "saved": "EMA generator, BatchNorm statistics recalibrated, float16",
        "fid_reference": evaluator.reference,
        "fid_features": CLASSIFIER[dataset],
        "eval_images": evaluator.n,
        "train_seconds": round(history["train_seconds"], 1),
        "wall_seconds": round(time.perf_counter() - start, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "checkpoints": checkpoints,
    }
    update_manifest(out, dataset, manifest_entry)
    kept = {c["file"] for c in checkpoints}
    for stale in out.glob(f"{dataset}-step*.safetensors"):
        if stale.name not in kept:
            stale.unlink()
    state_path.unlink(missing_ok=True)  # the run is complete: nothing left to resume
    return manifest_entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.train dcgan", description=__doc__)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="shapes")
    parser.add_argument(
        "--steps",
        type=arguments.positive_int,
        default=None,
        help=f"training steps (default {DEFAULT_STEPS})",
    )
    parser.add_argument("--batch-size", type=arguments.int_at_least(2), default=Recipe.batch_size)
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0)
    parser.add_argument("--out", type=Path, default=GAN_DIR)
    parser.add_argument(
        "--real-images",
        type=arguments.positive_int,
        default=Recipe.real_images,
        help="shapes: size of the pool of real images",
    )
    parser.add_argument(
        "--checkpoints",
        type=arguments.int_at_least(2),
        default=Recipe.checkpoints,
        help="generators saved along training (geometric steps, 0 and the last included)",
    )
    parser.add_argument(
        "--eval-images",
        type=arguments.positive_int,
        default=Recipe.eval_images,
        help="generated images behind each checkpoint's FID and label accuracy",
    )
    parser.add_argument(
        "--threads",
        type=arguments.positive_int,
        default=1,
        help="CPU threads (default 1: the networks are too small to gain from more, one thread "
        "does not stall when the machine is busy, and the files are bit-identical on reruns)",
    )
    parser.add_argument(
        "--checkpoint-every",
        type=arguments.non_negative_int,
        default=100,
        help="steps between resumable states (<out>/<dataset>-state.pt; 0: at the end only)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the state file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    steps = DEFAULT_STEPS[args.dataset] if args.steps is None else args.steps
    recipe = replace(
        Recipe(),
        steps=steps,
        batch_size=args.batch_size,
        real_images=args.real_images,
        checkpoints=args.checkpoints,
        eval_images=args.eval_images,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    entry = train_and_save(
        args.dataset,
        recipe,
        seed=args.seed,
        out=args.out,
        # Killed before its first state, a run has nothing to resume and starts afresh.
        resume=args.resume and state_file(args.dataset, args.out).is_file(),
        checkpoint_every=args.checkpoint_every,
        show_progress=not args.no_progress,
    )
    final = entry["checkpoints"][-1]
    print(
        f"{args.dataset}: {len(entry['checkpoints'])} checkpoints in {args.out}, final FID "
        f"{final['fid']:.2f}, label accuracy {final['label_accuracy']:.3f}, "
        f"{entry['wall_seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

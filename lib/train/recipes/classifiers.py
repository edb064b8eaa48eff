"""Retrain the course classifiers deterministically and write them to ``data/classifiers``.

    python -m lib.train classifiers            # both
    python -m lib.train classifiers --only digits-cnn
    python -m lib.train classifiers --only shapes-cnn --epochs 1 --train-images 512 --out /tmp/c

``digits-cnn`` trains on the fixed ``digits`` train split with random affine augmentation and is
tested on the held-out split; ``shapes-cnn`` trains on a fresh ``shapes`` set every epoch and is
tested on a set drawn with a seed never used in training. Both use Adam with a one-cycle learning
rate. Every random number comes from seeded generators and deterministic algorithms are enforced,
so a rerun with the same torch build and thread count reproduces the weights bit for bit.

The steps run through :func:`lib.train.loop.run_steps`: every ``--checkpoint-every`` steps the
network, the optimiser, the learning-rate schedule, the shuffling/augmentation generator and the
position inside the epoch's permutation go to ``<out>/<name>-state.pt``; ``--resume`` continues
from it and ends with the weights an uninterrupted run writes. The state file is removed once
the weights are written.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import cast

import torch

from lib.datasets import ImageSet, digits, shapes
from lib.features.classifiers import CLASSIFIERS_DIR, COURSE_CLASSIFIERS, CourseCNN
from lib.features.fitting import ClassifierFit, accuracy
from lib.train import arguments
from lib.train.loop import resume_run, run_steps, save_state
from lib.train.seeding import deterministic_algorithms
from lib.weights import update_manifest, weights_file, write_weights


@dataclass(frozen=True)
class Recipe:
    epochs: int
    batch_size: int = 128
    lr: float = 4e-3
    weight_decay: float = 5e-4
    train_images: int = 0  # shapes only: fresh images per epoch


RECIPES = {
    "digits-cnn": Recipe(epochs=20),
    "shapes-cnn": Recipe(epochs=5, train_images=10_000),
}
SHAPES_TEST_SEED = 999_999


def state_file(name: str, folder: str | Path = CLASSIFIERS_DIR) -> Path:
    """Where the resumable training state of classifier ``name`` is kept during a run."""
    return Path(folder) / f"{name}-state.pt"


def train_classifier(
    name: str,
    *,
    seed: int = 0,
    log: Callable[[str], None] = print,
    recipe: Recipe | None = None,
    state_path: str | Path | None = None,
    resume: bool = False,
    checkpoint_every: int = 0,
    show_progress: bool = False,
) -> tuple[CourseCNN, dict]:
    """Train one course classifier from scratch; returns the network and a report.

    ``recipe`` replaces the committed one (:data:`RECIPES`). With ``state_path`` a resumable
    state is written every ``checkpoint_every`` steps and at the end; ``resume`` continues from
    it (the run must have the same name, seed and recipe).
    """
    if name not in COURSE_CLASSIFIERS:
        raise ValueError(f"name: unknown course classifier {name!r}; choose from {sorted(RECIPES)}")
    dataset, channels = COURSE_CLASSIFIERS[name]
    recipe = RECIPES[name] if recipe is None else recipe
    config = {"name": name, "seed": seed, "recipe": asdict(recipe)}
    torch.manual_seed(seed)
    net = CourseCNN(channels, name=name)
    data: ImageSet | Callable[[int], ImageSet]
    if dataset == "digits":
        data, test_set = digits("train"), digits("test")
    else:
        test_set = shapes(2000, seed=SHAPES_TEST_SEED)

        def fresh_shapes(epoch: int) -> ImageSet:
            return shapes(recipe.train_images, seed=seed * 1000 + epoch + 1)

        data = fresh_shapes

    start = time.perf_counter()
    fit = ClassifierFit(
        net,
        data,
        epochs=recipe.epochs,
        batch_size=recipe.batch_size,
        lr=recipe.lr,
        weight_decay=recipe.weight_decay,
        augment=dataset == "digits",
        seed=seed,
        eval_set=test_set,
        log=log,
    )
    state = {
        "modules": {"net": net},
        "optimizers": {"opt": fit.opt},
        "schedulers": {"schedule": fit.schedule},
        "generators": {"batches": fit.gen},
    }
    done = 0
    if resume:
        done, extra = resume_run(state_path, config, **state)
        fit.restore_position(done, extra["position"])

    def on_checkpoint(steps_done: int) -> None:
        if state_path is not None:
            save_state(
                state_path,
                step=steps_done,
                **state,
                extra={"config": config, "position": fit.position()},
            )

    with deterministic_algorithms(True):
        if done < fit.steps:
            run_steps(
                fit.step,
                steps=fit.steps,
                start_step=done,
                desc=name,
                checkpoint_every=checkpoint_every,
                on_checkpoint=on_checkpoint,
                enabled=show_progress,
            )
    net.eval()
    report = {
        "dataset": dataset,
        # Both test sets are labelled.
        "test_accuracy": round(
            accuracy(net, test_set.images, cast(torch.Tensor, test_set.labels)), 6
        ),
        "test_images": len(test_set),
        "seed": seed,
        "recipe": recipe.__dict__,
        "train_seconds": round(time.perf_counter() - start, 1),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    return net, report


def save_classifier(net: CourseCNN, report: dict, folder: Path = CLASSIFIERS_DIR) -> None:
    """Write NAME.safetensors and its manifest entry (both atomically, through lib.weights)."""
    digest = write_weights(folder / weights_file(net.name), net.state_dict())
    update_manifest(folder, net.name, {**report, "sha256": digest})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lib.train classifiers", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--only", choices=sorted(RECIPES), action="append")
    parser.add_argument("--seed", type=arguments.non_negative_int, default=0)
    parser.add_argument("--epochs", type=arguments.positive_int, default=None)
    parser.add_argument("--batch-size", type=arguments.positive_int, default=None)
    parser.add_argument(
        "--train-images",
        type=arguments.positive_int,
        default=None,
        help="shapes-cnn: fresh images per epoch (default 10000)",
    )
    parser.add_argument("--out", type=Path, default=CLASSIFIERS_DIR)
    parser.add_argument(
        "--checkpoint-every",
        type=arguments.non_negative_int,
        default=100,
        help="steps between resumable states (<out>/<name>-state.pt; 0: at the end only)",
    )
    parser.add_argument("--resume", action="store_true", help="continue from the state files")
    parser.add_argument("--threads", type=arguments.positive_int, default=None)
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or sorted(RECIPES):
        recipe = RECIPES[name]
        overrides = {"epochs": args.epochs, "batch_size": args.batch_size}
        if recipe.train_images:
            overrides["train_images"] = args.train_images
        recipe = replace(recipe, **{k: v for k, v in overrides.items() if v is not None})
        state_path = state_file(name, args.out)
        # A finished classifier has no state left: a resumed command retrains only the rest.
        resume = args.resume and state_path.is_file()
        if args.resume and not resume and (args.out / weights_file(name)).is_file():
            print(f"{name}: already trained, kept")
            continue
        net, report = train_classifier(
            name,
            seed=args.seed,
            recipe=recipe,
            state_path=state_path,
            resume=resume,
            checkpoint_every=args.checkpoint_every,
        )
        save_classifier(net, report, args.out)
        state_path.unlink(missing_ok=True)
        accuracy_, seconds = report["test_accuracy"], report["train_seconds"]
        print(f"{name}: held-out accuracy {accuracy_:.4f} in {seconds} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Retrain the course classifiers deterministically and write them to ``data/classifiers``.

    python -m lib.train classifiers            # both
    python -m lib.train classifiers --only digits-cnn

``digits-cnn`` trains on the fixed ``digits`` train split with random affine augmentation and is
tested on the held-out split; ``shapes-cnn`` trains on a fresh ``shapes`` set every epoch and is
tested on a set drawn with a seed never used in training. Both use Adam with a one-cycle learning
rate. Every random number comes from seeded generators and deterministic algorithms are enforced,
so a rerun with the same torch build and thread count reproduces the weights bit for bit.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import torch

from lib.datasets import ImageSet, digits, shapes
from lib.features.classifiers import CLASSIFIERS_DIR, COURSE_CLASSIFIERS, CourseCNN
from lib.features.fitting import accuracy, fit_classifier
from lib.train import arguments
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


def train_classifier(
    name: str, *, seed: int = 0, log: Callable[[str], None] = print
) -> tuple[CourseCNN, dict]:
    """Train one course classifier from scratch; returns the network and a report."""
    if name not in COURSE_CLASSIFIERS:
        raise ValueError(f"name: unknown course classifier {name!r}; choose from {sorted(RECIPES)}")
    dataset, channels = COURSE_CLASSIFIERS[name]
    recipe = RECIPES[name]
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
    fit_classifier(
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
    args = parser.parse_args(argv)
    for name in args.only or sorted(RECIPES):
        net, report = train_classifier(name, seed=args.seed)
        save_classifier(net, report)
        accuracy_, seconds = report["test_accuracy"], report["train_seconds"]
        print(f"{name}: held-out accuracy {accuracy_:.4f} in {seconds} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

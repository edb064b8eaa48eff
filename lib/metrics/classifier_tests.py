"""GAN-train and GAN-test (Shmelkov, Schmid & Alahari, "How good is my GAN?", ECCV 2018).

A class-conditional generator produces a *labelled* image set. Two classifiers then judge it:

- **GAN-train**: a classifier trained only on the generated images, tested on real held-out
  images. High when the generated set covers the real classes in their variety (diversity).
- **GAN-test**: a classifier trained on real images, tested on the generated images. High when
  generated images look like real images of their label (fidelity) — a memorising generator
  scores perfectly here, which is why both numbers are needed.

Both are read against **real→real**: the classifier trained on real images, tested on real
held-out images, the best either number can reasonably reach.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from lib._checks import renamed_arguments
from lib.datasets import ImageSet
from lib.device import resolve_device
from lib.features.base import FeatureExtractor
from lib.features.classifiers import WIDTHS, CourseCNN
from lib.features.fitting import accuracy, fit_classifier

__all__ = ["GanTrainTest", "gan_train_test"]


class GanTrainTest(NamedTuple):
    gan_train: float  # trained on generated, tested on real held-out images
    gan_test: float  # trained on real, tested on generated images
    real_to_real: float  # trained on real, tested on real held-out images


def _check_labelled(s: object, name: str) -> tuple[ImageSet, torch.Tensor]:
    """The set and its labels, which GAN-train and GAN-test both need."""
    if not isinstance(s, ImageSet):
        raise TypeError(f"{name}: expected a lib.datasets.ImageSet, got {type(s).__name__}")
    if s.labels is None:
        raise ValueError(f"{name}: GAN-train/GAN-test need labelled images (labels is None)")
    if len(s) < 2:
        raise ValueError(f"{name}: need at least 2 images, got {len(s)}")
    return s, s.labels


@renamed_arguments(generated="fake")
def gan_train_test(
    real_train: ImageSet,
    real_test: ImageSet,
    fake: ImageSet,
    *,
    real_classifier: FeatureExtractor | None = None,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 4e-3,
    augment: bool = False,
    seed: int = 0,
    widths: tuple[int, ...] = WIDTHS,
    device: str | torch.device = "auto",
) -> GanTrainTest:
    """GAN-train, GAN-test and the real→real baseline, as accuracies in [0, 1].

    Classifiers are the course CNN (:class:`~lib.features.classifiers.CourseCNN`) trained from a
    seeded initialisation with :func:`~lib.features.fitting.fit_classifier` for
    ``epochs`` epochs. Pass an already trained ``real_classifier`` (e.g.
    ``lib.features.get("shapes-cnn")``) to skip training on the real images. ``widths`` are the
    channels of the CNN's four stages: the course's ``(24, 48, 96, 96)`` by default; a narrow
    network such as ``(8, 16, 32, 32)`` trains about four times faster on a CPU.

    Args:
        real_train: labelled real images to train the real classifier on.
        real_test: labelled real held-out images (never trained on).
        fake: labelled generated images (labels = the classes they were generated for).
    """
    real_train, _ = _check_labelled(real_train, "real_train")
    real_test, real_test_labels = _check_labelled(real_test, "real_test")
    fake, fake_labels = _check_labelled(fake, "fake")
    num_classes = real_train.num_classes
    for s, labels, name in (
        (real_test, real_test_labels, "real_test"),
        (fake, fake_labels, "fake"),
    ):
        if int(labels.max()) >= num_classes or int(labels.min()) < 0:
            raise ValueError(
                f"{name}: labels must lie in 0..{num_classes - 1} (the classes of real_train), "
                f"got {int(labels.min())}..{int(labels.max())}"
            )
        if s.images.shape[1:] != real_train.images.shape[1:]:
            raise ValueError(
                f"{name}: images are {tuple(s.images.shape[1:])}, real_train's are "
                f"{tuple(real_train.images.shape[1:])}; generate at the real images' size"
            )
    device = resolve_device(device)
    channels = real_train.images.shape[1]

    def fresh(name: str) -> CourseCNN:
        torch.manual_seed(seed)  # the same initialisation for both classifiers
        return CourseCNN(channels, num_classes, name=name, widths=widths).to(device)

    def fit(name: str, data: ImageSet) -> CourseCNN:
        return fit_classifier(
            fresh(name),
            data,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            augment=augment,
            seed=seed,
        )

    if real_classifier is None:
        real_classifier = fit("real-classifier", real_train)
    generated_classifier = fit("generated-classifier", fake)
    return GanTrainTest(
        gan_train=accuracy(generated_classifier, real_test.images, real_test_labels),
        gan_test=accuracy(real_classifier, fake.images, fake_labels),
        real_to_real=accuracy(real_classifier, real_test.images, real_test_labels),
    )

"""GAN-train / GAN-test on constructed "generators" whose failure is known."""

from __future__ import annotations

import pytest
import torch

import lib.datasets as datasets
import lib.features as features
from lib.metrics.classifier_tests import gan_train_test


@pytest.fixture(scope="module")
def digits_sets():
    return (
        datasets.digits("train"),
        datasets.digits("test"),
        features.get("digits-cnn", device="cpu"),
    )


@pytest.mark.slow
def test_a_generator_that_drops_half_the_classes(digits_sets):
    train, test, real_net = digits_sets
    kept = train[train.labels < 5]  # a "generator" that only ever makes digits 0-4
    result = gan_train_test(train, test, kept, real_classifier=real_net, epochs=10, seed=0)
    assert result.real_to_real >= 0.98
    assert result.gan_test >= 0.97  # every image it makes is a good digit: fidelity is fine
    assert 0.4 <= result.gan_train <= 0.55  # but a classifier trained on it knows half the classes


def test_a_generator_with_wrong_labels(digits_sets):
    train, test, real_net = digits_sets
    shuffled = datasets.ImageSet(
        train.images,
        train.labels[torch.randperm(len(train), generator=torch.Generator().manual_seed(0))],
        train.class_names,
    )
    result = gan_train_test(train, test, shuffled[:600], real_classifier=real_net, epochs=3)
    assert result.gan_test < 0.2 and result.gan_train < 0.3  # chance is 0.1


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"generated": "not a set"}, TypeError, "fake: expected a lib.datasets.ImageSet"),
        ({"generated": datasets.ImageSet(torch.rand(4, 1, 32, 32))}, ValueError, "labelled"),
        (
            {"generated": datasets.ImageSet(torch.rand(4, 1, 32, 32), torch.tensor([0, 1, 2, 12]))},
            ValueError,
            "labels must lie in 0..9",
        ),
        (
            {"generated": datasets.ImageSet(torch.rand(4, 3, 32, 32), torch.tensor([0, 1, 2, 3]))},
            ValueError,
            "generate at the real images' size",
        ),
    ],
)
def test_bad_inputs(digits_sets, kwargs, error, match):
    train, test, _ = digits_sets
    args = {"real_train": train, "real_test": test, **kwargs}
    with pytest.raises(error, match=match):
        gan_train_test(args["real_train"], args["real_test"], args["generated"], epochs=1)

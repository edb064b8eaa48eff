"""The offline data sets: determinism, balance, ranges, splits and clear errors."""

from __future__ import annotations

import importlib
from collections import Counter

import pytest
import torch

import lib.datasets as datasets
from lib.datasets import SHAPE_CLASSES, ImageSet, class_counts_for


def _check_image_set(s: ImageSet, n: int, channels: int, size: int) -> None:
    assert s.images.shape == (n, channels, size, size)
    assert s.images.dtype == torch.float32
    assert float(s.images.min()) >= 0.0 and float(s.images.max()) <= 1.0
    assert bool(torch.isfinite(s.images).all())
    if s.labels is not None:
        assert s.labels.dtype == torch.int64 and s.labels.shape == (n,)
        assert int(s.labels.min()) >= 0 and int(s.labels.max()) < s.num_classes


# ----------------------------------------------------------------------------------------- shapes
def test_shapes_same_seed_identical_different_seed_differs():
    a, b = datasets.shapes(300, seed=7), datasets.shapes(300, seed=7)
    assert torch.equal(a.images, b.images) and torch.equal(a.labels, b.labels)
    c = datasets.shapes(300, seed=8)
    assert not torch.equal(a.images, c.images)
    _check_image_set(a, 300, 3, 32)


def test_shapes_independent_of_render_chunking(monkeypatch):
    shapes_module = importlib.import_module("lib.datasets.shapes")  # the module, not the function

    reference = datasets.shapes(100, seed=3)
    monkeypatch.setattr(shapes_module, "_CHUNK", 7)
    chunked = datasets.shapes(100, seed=3)
    assert torch.equal(reference.images, chunked.images)


@pytest.mark.parametrize(
    "n, balance",
    [
        (1000, None),
        (1003, None),
        (500, [3, 3, 2, 2, 0, 0, 0, 0, 0, 0]),
        (777, [1, 0, 0, 0, 0, 0, 0, 0, 0, 2]),
        (10, [0.5] * 10),
        (601, torch.arange(10.0)),
    ],
)
def test_shapes_class_histogram_matches_the_requested_balance(n, balance):
    s = datasets.shapes(n, seed=0, class_balance=balance)
    counts = s.class_counts()
    assert int(counts.sum()) == n
    assert torch.equal(counts, class_counts_for(n, balance))
    weights = torch.ones(10) if balance is None else torch.as_tensor(balance, dtype=torch.float64)
    expected = weights / weights.sum() * n
    assert float((counts - expected).abs().max()) < 1.0  # largest remainder: within one image
    assert bool((counts[weights == 0] == 0).all())


def test_shapes_classes_look_different():
    """Each class has its own mean silhouette: a nearest-class-mean classifier on the foreground
    mask alone is far above chance, so the classes are distinct shapes, not just labels."""
    s = datasets.shapes(2000, seed=1, texture=0.0)
    # Distance of every pixel from the image's background colour (the corner pixel) as a mask.
    corner = s.images[:, :, :1, :1]
    mask = (s.images - corner).abs().sum(1) > 0.2
    area = mask.float().mean((1, 2))
    per_class_area = torch.stack([area[s.labels == c].mean() for c in range(10)])
    assert float(per_class_area.std()) > 0.02  # bars and rings are thinner than disks
    assert set(s.labels.tolist()) == set(range(10))


def test_shapes_size_and_texture_options():
    big = datasets.shapes(8, seed=2, size=64)
    _check_image_set(big, 8, 3, 64)
    flat = datasets.shapes(8, seed=2, texture=0.0)
    _check_image_set(flat, 8, 3, 32)


def test_shapes_on_device_matches_cpu(device):
    cpu = datasets.shapes(64, seed=5)
    dev = datasets.shapes(64, seed=5, device=device)
    assert dev.images.device.type == device
    torch.testing.assert_close(dev.images.cpu(), cpu.images, atol=1e-4, rtol=0)
    assert torch.equal(dev.labels.cpu(), cpu.labels)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n": 0}, ValueError, "n: must be at least 1"),
        ({"n": 2.5}, TypeError, "n: expected an integer"),
        ({"n": 10, "class_balance": [1, 2, 3]}, ValueError, "expected 10 weights"),
        ({"n": 10, "class_balance": [0] * 10}, ValueError, "at least one class"),
        ({"n": 10, "class_balance": [-1] + [1] * 9}, ValueError, ">= 0"),
        ({"n": 10, "class_balance": [float("nan")] * 10}, ValueError, "finite"),
        ({"n": 10, "size": 4}, ValueError, "size: must be at least 8"),
        ({"n": 10, "texture": -1}, ValueError, "texture"),
        ({"n": 10, "device": "tpu:9"}, ValueError, "device"),
    ],
    ids=lambda v: str(v)[:30],
)
def test_shapes_bad_inputs(kwargs, error, match):
    with pytest.raises(error, match=match):
        datasets.shapes(**kwargs)


# ----------------------------------------------------------------------------------------- digits
def test_digits_split_is_fixed_stratified_and_disjoint():
    train, test, everything = (
        datasets.digits("train"),
        datasets.digits("test"),
        datasets.digits("all"),
    )
    assert (len(train), len(test), len(everything)) == (1438, 359, 1797)
    _check_image_set(train, 1438, 1, 32)
    # Stratified: every class is about 20 % test.
    share = test.class_counts().double() / everything.class_counts().double()
    assert float((share - 0.2).abs().max()) < 0.01

    # Disjoint and complete: train and test together are exactly the whole set.
    def rows(split):
        native = datasets.digits(split, size=8)
        flat = (native.images.flatten(1) * 16).round().long()
        pairs = zip(flat.tolist(), native.labels.tolist(), strict=True)
        return Counter(tuple(r) + (y,) for r, y in pairs)

    assert rows("train") + rows("test") == rows("all")
    assert torch.equal(datasets.digits("train").images, train.images)


def test_digits_options():
    rgb = datasets.digits("test", channels=3, size=28)
    _check_image_set(rgb, 359, 3, 28)
    assert torch.equal(rgb.images[:, 0], rgb.images[:, 2])
    native = datasets.digits("test", size=8)
    assert float((native.images * 16 - (native.images * 16).round()).abs().max()) < 1e-5


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"split": "validation"}, "split: unknown value 'validation'"),
        ({"channels": 2}, "channels"),
        ({"size": 4}, "size"),
    ],
)
def test_digits_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.digits(**kwargs)


# ----------------------------------------------------------------------------------------- photos
def test_photos_deterministic_in_range_and_labelled_by_source():
    a = datasets.photos(50, size=24, seed=3)
    b = datasets.photos(50, size=24, seed=3)
    assert torch.equal(a.images, b.images)
    _check_image_set(a, 50, 3, 24)
    assert a.class_names == tuple(datasets.PHOTO_SOURCES)
    assert float(a.images.std()) > 0.05  # real content, not blank crops


def test_photos_crop_of_the_whole_photo_is_the_downsampled_photo():
    one = datasets.photos(1, size=16, seed=0, scale=(1.0, 1.0), sources=("chelsea",))
    photo = datasets.load_photo("chelsea")
    side = min(photo.shape[-2:])
    # scale 1 covers the short side; compare with an area-average downsample of that square.
    x0 = None
    for flip in (False, True):
        for offset in range(photo.shape[-1] - side + 1):
            crop = photo[:, :side, offset : offset + side]
            small = torch.nn.functional.adaptive_avg_pool2d(crop[None], 16)[0]
            small = small.flip(-1) if flip else small
            err = float((small - one.images[0]).abs().mean())
            x0 = err if x0 is None else min(x0, err)
    assert x0 < 0.03


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n": 5, "scale": (0.5, 0.2)}, "scale"),
        ({"n": 5, "scale": (0.0, 0.5)}, "scale"),
        ({"n": 5, "sources": ("lena",)}, "unknown photo 'lena'"),
        ({"n": 5, "sources": ()}, "at least one"),
        ({"n": -1}, "n: must be at least 1"),
    ],
)
def test_photos_bad_inputs(kwargs, match):
    with pytest.raises(ValueError, match=match):
        datasets.photos(**kwargs)


# ---------------------------------------------------------------------------------- registry, set
def test_load_by_name_and_unknown_name():
    assert len(datasets.load("shapes", 20, seed=1)) == 20
    assert datasets.load("digits", "test").name == "digits"
    with pytest.raises(ValueError, match="unknown data set 'celeba'.*choose one of"):
        datasets.load("celeba")
    assert "shapes" in datasets.available()


def test_image_set_indexing_and_helpers():
    s = datasets.shapes(20, seed=0)
    first = s[0]
    assert len(first) == 1 and torch.equal(first.images[0], s.images[0])
    last = s[-1]
    assert torch.equal(last.images[0], s.images[-1])
    stars = s[s.labels == SHAPE_CLASSES.index("star")]
    assert bool((stars.labels == SHAPE_CLASSES.index("star")).all())
    assert s[:5].class_names == s.class_names
    grey = datasets.digits("test")
    assert grey.rgb().images.shape[1] == 3 and s.rgb() is s
    assert "20 images" in repr(s)
    with pytest.raises(ValueError, match="labels"):
        ImageSet(torch.zeros(3, 1, 4, 4), torch.zeros(2, dtype=torch.long))

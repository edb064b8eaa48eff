"""lib.metrics.diversity: pairs of images, batched pairwise MS-SSIM, the diversity measure."""

from __future__ import annotations

import math

import pytest
import torch

from lib.datasets import shapes
from lib.metrics import MS_SSIM_WEIGHTS, ms_ssim
from lib.metrics.diversity import (
    MSSSIMDiversity,
    image_pairs,
    ms_ssim_diversity,
    pairwise_ms_ssim,
    scale_weights,
)

SMALL = dict(weights=scale_weights(3), win_size=7)  # what 32-px images allow


@pytest.fixture(scope="module")
def images():
    return shapes(40, seed=0)


def test_scale_weights_are_the_papers_renormalised():
    assert sum(scale_weights(5)) == pytest.approx(1.0)
    full = sum(MS_SSIM_WEIGHTS)
    assert scale_weights(5) == pytest.approx([w / full for w in MS_SSIM_WEIGHTS])
    three = scale_weights(3)
    assert three == pytest.approx([w / sum(MS_SSIM_WEIGHTS[:3]) for w in MS_SSIM_WEIGHTS[:3]])
    assert scale_weights(1) == (1.0,)
    with pytest.raises(ValueError, match="at most 5 scales"):
        scale_weights(6)


def test_all_pairs_and_random_pairs():
    every = image_pairs(5, None)
    assert every.shape == (10, 2) and bool((every[:, 0] < every[:, 1]).all())
    assert len({tuple(p) for p in every.tolist()}) == 10
    pairs = image_pairs(7, 5000, seed=3)
    assert pairs.shape == (5000, 2) and pairs.dtype == torch.long
    assert bool((pairs[:, 0] != pairs[:, 1]).all())
    assert int(pairs.min()) == 0 and int(pairs.max()) == 6
    # Every ordered pair i ≠ j equally likely: 42 of them, about 119 each.
    counts = torch.bincount(pairs[:, 0] * 7 + pairs[:, 1], minlength=49).view(7, 7)
    assert bool((counts.diagonal() == 0).all())
    off = counts[~torch.eye(7, dtype=torch.bool)].double()
    assert float(off.min()) > 70 and float(off.max()) < 170
    assert torch.equal(image_pairs(7, 50, seed=3), image_pairs(7, 50, seed=3))
    assert not torch.equal(image_pairs(7, 50, seed=3), image_pairs(7, 50, seed=4))


def test_pairs_within_classes():
    labels = torch.tensor([0, 1, 0, 2, 1, 0, 3])  # class 3 has one image, class 2 one too
    pairs = image_pairs(7, 20, labels=labels, seed=1)
    assert pairs.shape == (40, 2)  # classes 0 and 1 only
    assert bool((labels[pairs[:, 0]] == labels[pairs[:, 1]]).all())
    assert bool((pairs[:, 0] != pairs[:, 1]).all())
    every = image_pairs(7, None, labels=labels)
    assert sorted(map(tuple, every.tolist())) == [(0, 2), (0, 5), (1, 4), (2, 5)]


def test_pairwise_ms_ssim_is_ms_ssim_of_each_pair_in_any_batch_size(images):
    x = images.images
    pairs = image_pairs(len(x), 25, seed=0)
    values = pairwise_ms_ssim(x, pairs, batch_size=7, **SMALL)
    assert values.shape == (25,)
    assert torch.allclose(values, pairwise_ms_ssim(x, pairs, batch_size=100, **SMALL), atol=1e-6)
    for k in (0, 11, 24):
        i, j = pairs[k].tolist()
        assert float(values[k]) == pytest.approx(
            float(ms_ssim(x[i : i + 1], x[j : j + 1], **SMALL)), abs=1e-6
        )


def test_copies_score_one_and_per_class_means(images):
    x, labels = images.images, images.labels
    copies = x[:1].expand(6, -1, -1, -1)
    out = ms_ssim_diversity(copies, n_pairs=10, **SMALL)
    assert isinstance(out, MSSSIMDiversity) and out.per_class is None
    assert out.mean == pytest.approx(1.0, abs=1e-6)

    lab = labels.clone()
    lab[lab == 9] = 8  # leave class 9 empty: its mean is NaN and left out of the overall mean
    res = ms_ssim_diversity(x, lab, n_pairs=15, seed=2, **SMALL)
    assert res.per_class.shape == (9,) and res.values.shape == (len(res.pairs),)
    present = torch.bincount(lab, minlength=9) >= 2
    assert bool(torch.isnan(res.per_class[~present]).all())
    for c in torch.nonzero(present).squeeze(1).tolist():
        mine = res.values[lab[res.pairs[:, 0]] == c].double().mean()
        assert float(res.per_class[c]) == pytest.approx(float(mine))
    assert res.mean == pytest.approx(float(res.per_class[present].mean()))
    # Unrelated shapes are far from copies.
    assert 0.0 < res.mean < 0.3


def test_collapse_raises_the_within_class_mean(images):
    x, labels = images.images, images.labels
    first = torch.stack([torch.nonzero(labels == c)[0, 0] for c in range(10)])
    collapsed = x[first[labels]]  # every image replaced by the first of its class
    varied = ms_ssim_diversity(x, labels, n_pairs=20, **SMALL).mean
    assert ms_ssim_diversity(collapsed, labels, n_pairs=20, **SMALL).mean == pytest.approx(1.0)
    assert varied < 0.3


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda x: image_pairs(1, 5), ValueError, "need at least 2 images"),
        (lambda x: image_pairs(5, 0), ValueError, "n_pairs: must be at least 1"),
        (lambda x: image_pairs(3, 5, labels=torch.tensor([0.0, 1, 1])), TypeError, "integer"),
        (lambda x: image_pairs(3, 5, labels=torch.tensor([0, 1])), ValueError, r"shape \(3,\)"),
        (lambda x: image_pairs(3, 5, labels=torch.tensor([0, 1, 2])), ValueError, "no class"),
        (lambda x: image_pairs(3, 5, labels=torch.tensor([0, -1, 0])), ValueError, ">= 0"),
        (lambda x: image_pairs(3, 5, seed=0.5), TypeError, "seed"),
        (lambda x: pairwise_ms_ssim(x, torch.tensor([[0, 40]]), **SMALL), ValueError, "0..39"),
        (lambda x: pairwise_ms_ssim(x, torch.tensor([[0.0, 1.0]]), **SMALL), TypeError, "integer"),
        (lambda x: pairwise_ms_ssim(x, torch.tensor([0, 1]), **SMALL), ValueError, "P×2"),
        (lambda x: pairwise_ms_ssim(x, torch.tensor([[0, 1]])), ValueError, "160 pixels"),
        (lambda x: ms_ssim_diversity(x * 2, **SMALL), ValueError, "images: float images"),
    ],
)
def test_bad_inputs_raise_clear_errors(images, call, error, match):
    with pytest.raises(error, match=match):
        call(images.images)


def test_nan_free_on_a_single_class_set(images):
    x = images.images[images.labels == 0]
    res = ms_ssim_diversity(x, torch.zeros(len(x), dtype=torch.long), n_pairs=5, **SMALL)
    assert res.per_class.shape == (1,) and math.isfinite(res.mean)

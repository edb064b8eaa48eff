"""Tests for lib.bench: the degradations of Heusel et al. (2017, Fig. 1) and the mode-collapse
"generators", and the course's claims about how the metrics react to them."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.bench import (
    DEGRADATIONS,
    LEVELS,
    bench_sets,
    collapse_within_class,
    degradation_series,
    degradations,
    degrade,
    drop_modes,
    memorise,
    strength,
)
from lib.datasets import ImageSet, digits, photos, shapes

RANDOM_KINDS = ("noise", "rectangles", "salt_pepper", "mix")


@pytest.fixture(scope="module")
def small() -> ImageSet:
    return shapes(600, seed=0)


@pytest.fixture(scope="module")
def grey() -> ImageSet:
    return digits("test")  # 359 grey images


@pytest.fixture(scope="module")
def other() -> torch.Tensor:
    return photos(300, size=32, seed=5).images


def increasing(values, factor: float = 1.0) -> bool:
    return all(values[i + 1] > factor * values[i] for i in range(len(values) - 1))


def distinct_images(x: torch.Tensor) -> int:
    return torch.unique(x.flatten(1), dim=0).shape[0]


# --------------------------------------------------------------------------------------------
# the levels
# --------------------------------------------------------------------------------------------
def test_levels_table():
    assert DEGRADATIONS == ("noise", "blur", "swirl", "rectangles", "salt_pepper", "mix")
    assert set(LEVELS) == set(DEGRADATIONS)
    for kind, values in LEVELS.items():
        assert len(values) == 5 and values[0] == 0.0
        assert increasing(values), kind
        assert [strength(kind, level) for level in range(5)] == list(values)
    assert LEVELS["salt_pepper"][-1] <= 1 and LEVELS["mix"][-1] <= 1


# --------------------------------------------------------------------------------------------
# the contract of degrade: identity at 0, shape/dtype/device/range, determinism
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_level_zero_is_identity(small, other, kind):
    x = small.images[:50]
    for out in (degrade(x, kind, 0, other=other), degrade(x, kind, strength=0.0, other=other)):
        assert torch.equal(out, x)
        assert out.data_ptr() != x.data_ptr()  # a copy, never the caller's tensor


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_output_contract_and_determinism(small, other, kind, device):
    x = small.images[:64]
    cpu = degrade(x, kind, 3, seed=7, other=other)
    out = degrade(x.to(device), kind, 3, seed=7, other=other.to(device))
    assert out.shape == x.shape and out.dtype == x.dtype and out.device.type == device
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert torch.equal(out, degrade(x.to(device), kind, 3, seed=7, other=other.to(device)))
    # Random numbers are drawn on the CPU, so every device makes the same images.
    torch.testing.assert_close(out.cpu(), cpu, atol=1e-5, rtol=0)
    if kind in RANDOM_KINDS:
        assert not torch.equal(cpu, degrade(x, kind, 3, seed=8, other=other))
    x64 = x.double()
    out64 = degrade(x64, kind, 2, seed=1, other=other)
    assert out64.dtype == torch.float64
    torch.testing.assert_close(
        out64.float(), degrade(x, kind, 2, seed=1, other=other), atol=1e-5, rtol=0
    )


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_series_is_the_five_levels_with_growing_change(small, grey, other, kind):
    for images in (small.images[:200], grey.images):
        series = degradation_series(images, kind, seed=3, other=other)
        assert len(series) == 5
        for level, out in enumerate(series):
            assert torch.equal(out, degrade(images, kind, level, seed=3, other=other))
        change = [float((out - images).abs().mean()) for out in series]
        assert change[0] == 0.0
        assert increasing(change), (kind, change)


# --------------------------------------------------------------------------------------------
# each degradation does what its docstring says
# --------------------------------------------------------------------------------------------
def test_noise_adds_gaussian_noise_of_sigma():
    x = torch.full((200, 3, 32, 32), 0.5)
    out = degrade(x, "noise", strength=0.05, seed=0)
    residual = out - x
    assert abs(float(residual.mean())) < 2e-3
    assert abs(float(residual.std()) - 0.05) < 1e-3


def test_blur_matches_scipy_gaussian_filter(small):
    from scipy.ndimage import gaussian_filter

    x = small.images[:4].double()
    for sigma in (0.5, 1.0, 2.5):
        out = degrade(x, "blur", strength=sigma)
        ref = gaussian_filter(x.numpy(), sigma=(0, 0, sigma, sigma), mode="mirror", truncate=4.0)
        np.testing.assert_allclose(out.numpy(), ref, atol=1e-12)


def test_swirl_matches_skimage(small, grey):
    from skimage.transform import swirl

    for images in (small.images[:3].double(), grey.images[:2, :, 4:, :].double()):
        h, w = images.shape[-2:]
        for s in (2.0, 20.0):
            out = degrade(images, "swirl", strength=s)
            for i in range(images.shape[0]):
                ref = swirl(
                    images[i].permute(1, 2, 0).numpy(),
                    center=((w - 1) / 2, (h - 1) / 2),
                    strength=s,
                    radius=min(h, w) / 2,
                    order=1,
                    mode="reflect",
                    preserve_range=True,
                )
                np.testing.assert_allclose(out[i].permute(1, 2, 0).numpy(), ref, atol=1e-9)


def test_rectangles_are_black_boxes_of_a_quarter_to_half_the_side():
    x = torch.full((300, 3, 32, 32), 0.5)
    one = degrade(x, "rectangles", strength=1, seed=2)
    black = (one == 0).all(1)  # N×H×W
    rows, cols = black.any(2), black.any(1)
    height, width = rows.sum(1), cols.sum(1)
    # Exactly one full rectangle per image: the black pixels fill their bounding box.
    assert torch.equal(black.sum((1, 2)), height * width)
    assert int(height.min()) >= 8 and int(height.max()) <= 16
    assert int(width.min()) >= 8 and int(width.max()) <= 16
    assert bool(((one == 0) | (one == 0.5)).all())
    # A fractional strength gives ⌊s⌋ or ⌈s⌉ rectangles: here half the images get none.
    half = degrade(x, "rectangles", strength=0.5, seed=2)
    untouched = (half == 0.5).flatten(1).all(1).float().mean()
    assert 0.4 < float(untouched) < 0.6


def test_salt_and_pepper_hits_a_fraction_of_pixels():
    x = torch.full((100, 3, 32, 32), 0.5)
    out = degrade(x, "salt_pepper", strength=0.1, seed=4)
    hit = (out != 0.5).any(1)
    assert bool(((out != 0.5).all(1) == hit).all())  # all channels of a pixel together
    assert abs(float(hit.float().mean()) - 0.1) < 0.005
    values = out.permute(0, 2, 3, 1)[hit]
    assert bool(((values == 0) | (values == 1)).all())
    assert abs(float(values.mean()) - 0.5) < 0.03


def test_mix_replaces_a_fraction_of_images_with_matched_other_images(grey):
    x = grey.images[:200]  # grey 32×32
    other = photos(50, size=48, seed=1).images  # RGB 48×48: resized and converted to grey
    out = degrade(x, "mix", strength=0.25, seed=0, other=other)
    replaced = (out != x).flatten(1).any(1)
    assert int(replaced.sum()) == 50  # round(0.25 · 200)
    matched = degradations._match_images(other, x)
    gap = (out[replaced].flatten(1)[:, None] - matched.flatten(1)[None]).abs().amax(2)
    assert float(gap.min(1).values.max()) < 1e-6  # each replaced image is one of other's
    # More images than other holds: each other image is used ⌊m/len⌋ or ⌈m/len⌉ times.
    many = degrade(x, "mix", strength=1.0, other=other)
    assert distinct_images(many) == 50
    # Grey other images are repeated to RGB for RGB images; an ImageSet is accepted.
    rgb = degrade(photos(20, seed=2).images, "mix", strength=1.0, other=grey)
    assert rgb.shape[1] == 3 and torch.equal(rgb[:, 0], rgb[:, 2])


# --------------------------------------------------------------------------------------------
# mode dropping, within-class collapse, memorisation
# --------------------------------------------------------------------------------------------
def test_drop_modes_keeps_only_the_kept_classes(small):
    five = drop_modes(small, 5, seed=1)
    assert len(five) == len(small) and set(five.labels.tolist()) == set(range(5))
    counts = five.class_counts()[:5]
    assert int(counts.max() - counts.min()) <= 2 * int(
        small.class_counts()[:5].max() - small.class_counts()[:5].min()
    )
    assert five.info["with_replacement"] is True
    # Labels still describe the images.
    idx = five.info["source_indices"]
    assert torch.equal(five.images, small.images[idx]) and torch.equal(
        five.labels, small.labels[idx]
    )
    picked = drop_modes(small, [1, 3, 8], n=100, seed=0)
    assert len(picked) == 100 and set(picked.labels.tolist()) == {1, 3, 8}
    assert distinct_images(picked.images) == 100  # no repeats when they are not needed
    assert picked.info["with_replacement"] is False
    assert torch.equal(picked.images, drop_modes(small, [1, 3, 8], n=100, seed=0).images)


def test_collapse_within_class_keeps_class_shares_but_not_variety(small):
    two = collapse_within_class(small, 2, seed=0)
    assert len(two) == len(small)
    assert torch.equal(two.class_counts(), small.class_counts())
    for c in range(10):
        assert distinct_images(two.images[two.labels == c]) == 2
    half = collapse_within_class(small, 3, n=300, seed=0)
    assert len(half) == 300 and int(half.class_counts().sum()) == 300
    assert int((half.class_counts() - small.class_counts() / 2).abs().max()) <= 1
    mem = memorise(small, seed=0)
    assert distinct_images(mem.images) == 10
    assert torch.equal(mem.class_counts(), small.class_counts())
    assert not torch.equal(mem.images, memorise(small, seed=1).images)


def test_bench_sets_names(small, other):
    sets = bench_sets(small, level=1)
    assert list(sets) == [
        "noise",
        "blur",
        "swirl",
        "rectangles",
        "salt_pepper",
        "drop 5 of 10 modes",
        "2 per class",
        "memorised (1 per class)",
    ]
    assert all(len(s) == len(small) for s in sets.values())
    assert torch.equal(sets["noise"].images, degrade(small.images, "noise", 1))
    assert sets["blur"].info["strength"] == LEVELS["blur"][1]
    with_mix = bench_sets(small, other=ImageSet(other, name="photos"), level=4)
    assert "mix" in with_mix and with_mix["mix"].labels is None
    unlabelled = bench_sets(ImageSet(small.images[:40], name="unlabelled"))
    assert list(unlabelled) == list(DEGRADATIONS[:-1])


# --------------------------------------------------------------------------------------------
# the course's claims, measured with the shapes classifier
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def measured():
    from lib.features import get
    from lib.metrics import fid, inception_score, modified_inception_score

    net = get("shapes-cnn", device="cpu")
    real = shapes(1000, seed=1)
    fake = shapes(1000, seed=2)
    other = photos(1000, size=32, seed=3).images

    def look(images):
        out = net.extract(images, ("features", "logits"))
        return out["features"], out["logits"]

    real_f, real_l = look(real.images)
    fake_f, fake_l = look(fake.images)
    base = fid(real_f, fake_f)
    table = {}
    for kind in DEGRADATIONS:
        table[kind] = [base] + [
            fid(real_f, look(degrade(fake.images, kind, level, other=other))[0])
            for level in range(1, 5)
        ]

    def scores(f, logits):
        return {
            "fid": fid(real_f, f),
            "is": inception_score(logits, inputs="logits")[0],
            "m-is": modified_inception_score(logits, inputs="logits")[0],
            "perplexity": math.exp(float(bench_entropy(logits))),
        }

    sets = {
        "memorised (1 per class)": memorise(fake),
        "2 per class": collapse_within_class(fake, 2),
        "drop 5 of 10 modes": drop_modes(fake, 5),
        "keep 2 of 10 modes": drop_modes(fake, 2),
    }
    # The sets are copies of images of `fake`, so their features are rows of fake's; the
    # memorised set is also run through the network to check that.
    direct = look(sets["memorised (1 per class)"].images)
    results = {"real (another draw)": scores(fake_f, fake_l)}
    for name, s in sets.items():
        index = s.info["source_indices"]
        results[name] = scores(fake_f[index], fake_l[index])
    lines = [f"real vs real FID {base:.3f}"]
    lines += [f"{k:12s} " + " ".join(f"{v:8.2f}" for v in table[k]) for k in DEGRADATIONS]
    lines += [
        f"{name:24s} " + " ".join(f"{k} {v:.3f}" for k, v in r.items())
        for name, r in results.items()
    ]
    print("\n" + "\n".join(lines))
    return {
        "base": base,
        "fid": table,
        "sets": results,
        "fake": fake,
        "fake_features": fake_f,
        "fake_logits": fake_l,
        "memorised": (sets["memorised (1 per class)"].info["source_indices"], *direct),
    }


def bench_entropy(logits: torch.Tensor) -> torch.Tensor:
    """H(y) of the mean posterior: what the marginal term of IS sees."""
    p = torch.softmax(logits.double(), 1).mean(0)
    return -(p * p.log()).sum()


@pytest.mark.parametrize("kind", DEGRADATIONS)
def test_fid_grows_with_every_level(measured, kind):
    fids = measured["fid"][kind]
    assert fids[0] == measured["base"] and measured["base"] < 0.5  # level 0: real vs real
    assert fids[1] > 1.5 * fids[0], fids
    assert increasing(fids[1:], factor=1.15), (kind, fids)  # strictly, with a margin


def test_copies_look_like_their_sources_to_the_network(measured):
    index, features, logits = measured["memorised"]
    torch.testing.assert_close(features, measured["fake_features"][index], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(logits, measured["fake_logits"][index], atol=1e-4, rtol=1e-4)


def test_memorised_images_fool_the_inception_score(measured):
    real, mem = measured["sets"]["real (another draw)"], measured["sets"]["memorised (1 per class)"]
    assert mem["is"] >= 0.9 * real["is"]
    assert mem["m-is"] < real["m-is"] and mem["fid"] > 10 * real["fid"]


def test_collapse_within_class_is_caught_by_modified_is_not_by_is(measured):
    real, two = measured["sets"]["real (another draw)"], measured["sets"]["2 per class"]
    assert abs(two["is"] / real["is"] - 1) < 0.05
    # log m-IS is the mean within-class KL; collapsing to 2 images per class removes most of it.
    assert math.log(two["m-is"]) < 0.6 * math.log(real["m-is"])
    assert two["fid"] > 5 * real["fid"]


def test_is_claims_hold_for_most_draws(measured):
    """Which images get memorised is random, and one ambiguous pick lowers IS: the claims hold
    for the typical (median) draw. The copies are real images, so their logits are indexed."""
    from lib.metrics import inception_score, modified_inception_score

    fake, logits = measured["fake"], measured["fake_logits"]

    def scores(index):
        picked = logits[index]
        is_ = inception_score(picked, inputs="logits")[0]
        return is_, modified_inception_score(picked, inputs="logits")[0]

    real_is, real_mis = scores(torch.arange(len(fake)))
    mem, two = [], []
    for seed in range(10):
        is1, _ = scores(memorise(fake, seed=seed).info["source_indices"])
        is2, mis2 = scores(collapse_within_class(fake, 2, seed=seed).info["source_indices"])
        mem.append(is1 / real_is)
        two.append((is2 / real_is, math.log(mis2) / math.log(real_mis)))
    mem_q = np.quantile(mem, [0.0, 0.5, 1.0])
    two_is = np.quantile([t[0] for t in two], [0.0, 0.5, 1.0])
    two_mis = np.quantile([t[1] for t in two], [0.0, 0.5, 1.0])
    print(
        f"\nover 10 draws (min/median/max): memorised IS ratio {np.round(mem_q, 3)}; "
        f"2 per class IS ratio {np.round(two_is, 3)}, log m-IS ratio {np.round(two_mis, 3)}"
    )
    assert mem_q[1] >= 0.9
    assert abs(two_is[1] - 1) < 0.05
    # Half the ordered pairs of a 2-image class are an image with itself (KL 0): log m-IS halves.
    assert two_mis[1] < 0.65


@pytest.mark.parametrize(("name", "kept"), [("drop 5 of 10 modes", 5), ("keep 2 of 10 modes", 2)])
def test_mode_dropping_lowers_is_with_the_classes_kept(measured, name, kept):
    real, dropped = measured["sets"]["real (another draw)"], measured["sets"][name]
    assert dropped["fid"] > 10 * real["fid"]
    # IS sees the marginal: its perplexity exp H(y) falls from ≈10 to ≈ the classes kept.
    assert 9.5 < real["perplexity"] <= 10 and kept <= dropped["perplexity"] < 1.25 * kept
    ratio = dropped["is"] / real["is"]
    assert 0.5 * kept / 10 < ratio < 1.5 * kept / 10, ratio


# --------------------------------------------------------------------------------------------
# bad input: a clear error at the public function
# --------------------------------------------------------------------------------------------
def _x():
    return torch.rand(4, 3, 16, 16, generator=torch.Generator().manual_seed(0))


BAD_DEGRADE = [
    ("unknown-kind", dict(kind="jpeg", level=1), ValueError, "kind: unknown value 'jpeg'"),
    ("level-too-high", dict(kind="noise", level=5), ValueError, "level: must be 0..4"),
    ("level-negative", dict(kind="noise", level=-1), ValueError, "level: must be 0..4"),
    ("level-float", dict(kind="noise", level=1.5), TypeError, "level: expected an integer"),
    ("both", dict(kind="blur", level=1, strength=1.0), ValueError, "exactly one"),
    ("neither", dict(kind="blur"), ValueError, "exactly one"),
    ("negative-strength", dict(kind="blur", strength=-1.0), ValueError, r"strength: 'blur'"),
    ("nan-strength", dict(kind="noise", strength=float("nan")), ValueError, "strength:"),
    ("fraction>1", dict(kind="salt_pepper", strength=1.5), ValueError, r"in \[0, 1\]"),
    ("mix-no-other", dict(kind="mix", level=2), ValueError, "other: 'mix'"),
    ("seed-float", dict(kind="noise", level=1, seed=0.5), TypeError, "seed:"),
    ("3-d", dict(images=torch.rand(3, 16, 16), kind="noise", level=1), ValueError, "4-D"),
    ("range", dict(images=_x() * 255, kind="noise", level=1), ValueError, r"\[0, 1\]"),
    (
        "uint8",
        dict(images=torch.zeros(2, 3, 8, 8, dtype=torch.uint8), kind="noise", level=1),
        TypeError,
        "uint8",
    ),
    (
        "nan",
        dict(images=torch.full((2, 3, 8, 8), float("nan")), kind="noise", level=1),
        ValueError,
        "NaN",
    ),
    ("other-range", dict(kind="mix", level=2, other=_x() * 2), ValueError, r"other: float"),
]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [pytest.param(kw, err, m, id=name) for name, kw, err, m in BAD_DEGRADE],
)
def test_degrade_bad_input(kwargs, error, match):
    kwargs = {"images": _x(), **kwargs}
    with pytest.raises(error, match=match):
        degrade(**kwargs)


BAD_SETS = [
    ("keep-0", lambda s: drop_modes(s, 0), ValueError, "keep: must keep between 1 and 10"),
    ("keep-11", lambda s: drop_modes(s, 11), ValueError, "keep: must keep between 1 and 10"),
    ("keep-out-of-range", lambda s: drop_modes(s, [2, 10]), ValueError, r"classes \[10\]"),
    ("keep-empty", lambda s: drop_modes(s, []), ValueError, "at least one"),
    ("keep-repeated", lambda s: drop_modes(s, [1, 1]), ValueError, "distinct"),
    ("keep-str", lambda s: drop_modes(s, "3"), TypeError, "keep:"),
    ("distinct-0", lambda s: collapse_within_class(s, 0), ValueError, "distinct_per_class"),
    ("distinct-float", lambda s: collapse_within_class(s, 1.5), TypeError, "distinct_per_class"),
    ("n-0", lambda s: memorise(s, 0), ValueError, "n: must be at least 1"),
    ("unlabelled-drop", lambda s: drop_modes(ImageSet(s.images), 3), ValueError, "needs class"),
    (
        "unlabelled-collapse",
        lambda s: collapse_within_class(ImageSet(s.images), 2),
        ValueError,
        "needs class labels",
    ),
    ("unlabelled-memorise", lambda s: memorise(ImageSet(s.images)), ValueError, "needs class"),
    ("tensor-not-set", lambda s: memorise(s.images), TypeError, "real: expected a lib.datasets"),
    (
        "set-out-of-range",
        lambda s: memorise(ImageSet(s.images * 2, s.labels)),
        ValueError,
        r"real.images: float images must lie in \[0, 1\]",
    ),
    ("bench-level", lambda s: bench_sets(s, level=7), ValueError, "level: must be 0..4"),
    ("bench-other-tensor", lambda s: bench_sets(s, other=s.images), TypeError, "other: expected"),
]


@pytest.mark.parametrize(
    ("call", "error", "match"), [pytest.param(c, e, m, id=name) for name, c, e, m in BAD_SETS]
)
def test_set_generators_bad_input(small, call, error, match):
    with pytest.raises(error, match=match):
        call(small[:100])


def test_strength_bad_input():
    with pytest.raises(ValueError, match="kind: unknown value"):
        strength("fog", 1)
    with pytest.raises(ValueError, match="level: must be 0..4"):
        strength("noise", 9)

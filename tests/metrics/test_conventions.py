"""The conventions every metric follows: two-sample measures take ``(real, fake)`` (old keyword
names still work, with a DeprecationWarning), results are floats or NamedTuples, one seed
validator, and the Everybody Dance Now measures live in ``lib.metrics``."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import lib.models.dance
from lib import metrics
from lib._checks import check_seed, renamed_arguments

_A = torch.from_numpy(np.random.RandomState(0).randn(12, 3))
_B = torch.from_numpy(np.random.RandomState(1).randn(10, 3) + 0.5)
_IMG_A = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(0))
_IMG_B = torch.rand(4, 1, 32, 32, generator=torch.Generator().manual_seed(1))
_SWD = dict(n_patches=8, n_repeats=1, n_projections=8)

# (function, old keyword names, positional inputs, other keyword arguments)
RENAMED = [
    (metrics.mmd2, ("x", "y"), (_A, _B), {}),
    (metrics.kid, ("x", "y"), (_A, _B), {"subsets": 3, "subset_size": 5}),
    (metrics.sliced_wasserstein, ("x", "y"), (_A, _B), {"n_projections": 8}),
    (metrics.wasserstein_1d, ("u", "v"), (_A[:, 0], _B[:, 0]), {}),
    (metrics.swd, ("images_a", "images_b"), (_IMG_A, _IMG_B), _SWD),
    (metrics.precision_recall, ("real_features", "fake_features"), (_A, _B), {}),
    (metrics.density_coverage, ("real_features", "fake_features"), (_A, _B), {}),
]


def _same(a, b) -> bool:
    if isinstance(a, torch.Tensor):
        return bool(torch.equal(a, b))
    return a == b


@pytest.mark.parametrize(
    ("fn", "old", "inputs", "kwargs"),
    [pytest.param(*case, id=case[0].__name__) for case in RENAMED],
)
def test_two_sample_measures_take_real_and_fake(fn, old, inputs, kwargs):
    positional = fn(*inputs, **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new names never warn
        by_name = fn(real=inputs[0], fake=inputs[1], **kwargs)
    assert _same(by_name, positional)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        by_old_name = fn(**{old[0]: inputs[0], old[1]: inputs[1]}, **kwargs)
    assert _same(by_old_name, positional)
    messages = [str(w.message) for w in caught if w.category is DeprecationWarning]
    assert any(f"{old[0]}= is now called real=" in m for m in messages)
    assert any(f"{old[1]}= is now called fake=" in m for m in messages)


def test_fid_infinity_old_name():
    with pytest.warns(DeprecationWarning, match="fake_features= is now called fake="):
        old = metrics.fid_infinity(_A, fake_features=_B, sizes=[5, 10])
    assert old == metrics.fid_infinity(_A, _B, sizes=[5, 10])


def test_renamed_arguments_refuses_both_names():
    @renamed_arguments(x="real")
    def f(real=None):
        return real

    with pytest.raises(TypeError, match="got both x= and real="):
        f(x=1, real=2)
    assert f(2) == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [(0, 0), (2020, 2020), (np.int64(7), 7), (torch.tensor(3), 3), (2**32 - 1, 2**32 - 1)],
)
def test_check_seed_accepts_integers(value, expected):
    out = check_seed(value)
    assert out == expected and type(out) is int


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (True, TypeError),
        (1.0, TypeError),
        ("1", TypeError),
        (torch.tensor(1.0), TypeError),
        (torch.tensor([1]), TypeError),
        (-1, ValueError),
        (2**32, ValueError),
    ],
)
def test_check_seed_refuses_the_rest(value, error):
    with pytest.raises(error, match="seed"):
        check_seed(value)


def test_results_are_named_tuples():
    result = metrics.swd(_IMG_A, _IMG_B, **_SWD)
    assert isinstance(result, tuple) and result._asdict()["mean"] == result.mean
    assert list(result.as_dict())[-1] == "swd_mean"


def test_flicker_statistics_are_not_rounded():
    clips = torch.rand(2, 4, 3, 8, 8, generator=torch.Generator().manual_seed(0)) / 3
    stats = metrics.flicker_statistics(clips)
    x = clips.float()
    assert stats.frame_difference == float((x[:, 1:] - x[:, :-1]).abs().mean())
    assert isinstance(stats, tuple) and set(stats._asdict()) == {
        "frame_difference",
        "brightness_jitter",
        "pixel_jitter",
    }


def test_dance_measures_live_in_metrics_and_stay_in_models():
    for name in ("frame_jitter", "crop_ssim", "body_boxes", "pose_distance"):
        assert getattr(lib.models.dance, name) is getattr(metrics, name)

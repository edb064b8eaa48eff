"""Tests for lib.metrics.inception_score: IS, its entropy decomposition and m-IS."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lib.metrics.inception_score import (
    EntropyTerms,
    inception_score,
    is_entropy_terms,
    modified_inception_score,
    modified_inception_score_groups,
)

TWO_ROWS = [[0.9, 0.1], [0.1, 0.9]]


def rel(a: float, b: float) -> float:
    return abs(a - b) / max(abs(b), 1e-300)


def random_logits(n: int, c: int, seed: int, scale: float = 3.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, c, generator=gen, dtype=torch.float64) * scale


def reference_is(p: np.ndarray, splits: int) -> list[float]:
    """Per-split IS exactly as the original code writes it: exp(mean_i KL(p_i ‖ p̄))."""
    n = len(p)
    scores = []
    for s in range(splits):
        part = p[s * n // splits : (s + 1) * n // splits]
        q = part.mean(axis=0, keepdims=True)
        kl = np.sum(part * (np.log(part) - np.log(q)), axis=1)
        scores.append(math.exp(kl.mean()))
    return scores


def brute_mis(p: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """exp(mean of the explicit KL(p_i ‖ p_j) matrix over each group, i = j included)."""
    logp = np.log(p)
    kl = (p * logp).sum(1)[:, None] - p @ logp.T  # KL[i, j] = Σ p_i log p_i − Σ p_i log p_j
    return np.array(
        [math.exp(kl[np.ix_(groups == g, groups == g)].mean()) for g in np.unique(groups)]
    )


# --------------------------------------------------------------------------------------------
# oracles (closed forms)
# --------------------------------------------------------------------------------------------
IS_ORACLES = [
    pytest.param(np.tile([[0.2, 0.5, 0.3]], (12, 1)), 1.0, id="identical-rows"),
    pytest.param(np.tile(np.eye(7), (3, 1)), 7.0, id="balanced-one-hot-7"),
    pytest.param(np.array(TWO_ROWS * 6), 1.4449348111684153, id="two-classes"),
]


@pytest.mark.parametrize(("probs", "expected"), IS_ORACLES)
def test_inception_score_oracles(device, probs, expected):
    p = torch.tensor(probs, device=device)
    mean, std = inception_score(p, splits=1)
    assert mean == pytest.approx(expected, rel=1e-12)
    assert std == 0.0
    # each contiguous split of these sets has the same composition → same score, zero spread
    mean3, std3 = inception_score(p, splits=3)
    assert mean3 == pytest.approx(expected, rel=1e-12) and std3 == pytest.approx(0.0, abs=1e-12)


def test_logits_and_probs_give_the_same_score(device):
    probs = torch.tensor(TWO_ROWS * 6, dtype=torch.float64, device=device)
    logits = torch.log(probs) + 5.0  # softmax is shift invariant
    assert inception_score(logits, splits=2, inputs="logits")[0] == pytest.approx(
        1.4449348111684153, rel=1e-12
    )
    z = random_logits(300, 10, seed=0).to(device)
    a = inception_score(z, inputs="logits")
    b = inception_score(torch.softmax(z, 1), inputs="probs")
    c = inception_score(z - z.max(1, keepdim=True).values, inputs="logits")
    assert rel(a[0], b[0]) <= 1e-12 and rel(a[0], c[0]) <= 1e-12
    assert rel(a[1], b[1]) <= 1e-9


def test_modified_inception_score_oracles(device):
    p = torch.tensor(TWO_ROWS * 5, dtype=torch.float64, device=device)
    assert modified_inception_score(p, grouping="global") == (
        pytest.approx(2.4082246852806923, rel=1e-12),
        0.0,
    )
    assert modified_inception_score(p, grouping="class") == (pytest.approx(1.0, abs=1e-12), 0.0)
    ids, scores = modified_inception_score_groups(p, "class")
    assert ids.tolist() == [0, 1] and scores.cpu().tolist() == pytest.approx([1.0, 1.0])


# --------------------------------------------------------------------------------------------
# torch-fidelity and the original formula
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffled", "contiguous"])
def test_inception_score_matches_torch_fidelity(shuffle):
    from torch_fidelity.metric_isc import isc_features_to_metric

    logits = random_logits(5003, 1008, seed=1)  # N not divisible by the splits, on purpose
    ours = inception_score(logits, 10, inputs="logits", shuffle=shuffle, seed=2020)
    theirs = isc_features_to_metric(logits, splits=10, shuffle=shuffle, rng_seed=2020)
    assert rel(ours[0], theirs["inception_score_mean"]) <= 1e-8
    assert rel(ours[1], theirs["inception_score_std"]) <= 1e-8


def test_contiguous_splits_follow_the_original_protocol():
    p = torch.softmax(random_logits(1003, 20, seed=2), 1)
    expected = reference_is(p.numpy(), 7)
    terms = is_entropy_terms(p, 7)
    assert np.allclose(terms.scores.numpy(), expected, rtol=1e-12)
    mean, std = inception_score(p, 7)
    assert rel(mean, float(np.mean(expected))) <= 1e-12
    assert rel(std, float(np.std(expected))) <= 1e-9


def test_shuffle_uses_numpy_randomstate_permutation():
    p = torch.softmax(random_logits(500, 5, seed=3), 1)
    perm = np.random.RandomState(77).permutation(500)
    assert inception_score(p, 5, shuffle=True, seed=77) == pytest.approx(
        inception_score(p[torch.from_numpy(perm)], 5)
    )
    assert inception_score(p, 5, shuffle=True, seed=77) != inception_score(p, 5)


def test_entropy_decomposition():
    z = random_logits(400, 12, seed=4)
    terms = is_entropy_terms(z, splits=4, inputs="logits")
    assert isinstance(terms, EntropyTerms)
    assert terms.marginal_entropy.shape == (4,) and terms.conditional_entropy.shape == (4,)
    p = torch.softmax(z, 1)
    for s in range(4):
        part = p[s * 100 : (s + 1) * 100]
        q = part.mean(0)
        assert terms.marginal_entropy[s].item() == pytest.approx(-(q * q.log()).sum().item())
        h_cond = -(part * part.log()).sum(1).mean().item()
        assert terms.conditional_entropy[s].item() == pytest.approx(h_cond)
    assert torch.all(terms.marginal_entropy <= math.log(12) + 1e-12)
    assert torch.allclose(
        terms.scores, torch.exp(terms.marginal_entropy - terms.conditional_entropy)
    )
    assert inception_score(z, 4, inputs="logits")[0] == pytest.approx(terms.scores.mean().item())


def test_zero_probabilities_are_handled():
    # one-hot rows: 0 · log 0 = 0 everywhere, no NaN
    p = torch.eye(4)[[0, 1, 1, 2, 3, 3]]
    mean, _ = inception_score(p, splits=1)
    h = -sum(c * math.log(c) for c in (1 / 6, 2 / 6, 1 / 6, 2 / 6))
    assert mean == pytest.approx(math.exp(h), rel=1e-12)
    assert modified_inception_score(p, "class") == (1.0, 0.0)


# --------------------------------------------------------------------------------------------
# m-IS against the explicit N×N KL matrix
# --------------------------------------------------------------------------------------------
def test_modified_inception_score_matches_explicit_kl_matrix(device):
    z = random_logits(700, 6, seed=5)
    p = torch.softmax(z, 1).numpy()
    labels = p.argmax(1)
    per_class = brute_mis(p, labels)
    ids, scores = modified_inception_score_groups(z.to(device), "class", inputs="logits")
    assert ids.cpu().tolist() == np.unique(labels).tolist()
    assert np.allclose(scores.cpu().numpy(), per_class, rtol=1e-10)
    mean, std = modified_inception_score(torch.from_numpy(p).to(device), "class")
    assert rel(mean, float(per_class.mean())) <= 1e-10
    assert rel(std, float(per_class.std())) <= 1e-8

    whole = brute_mis(p, np.zeros(700, dtype=int))[0]
    assert rel(modified_inception_score(z.to(device), "global", inputs="logits")[0], whole) <= 1e-10
    split_ids = np.repeat(np.arange(3), np.diff([0, 233, 466, 700]))
    per_split = brute_mis(p, split_ids)
    mean3, std3 = modified_inception_score(z.to(device), "global", inputs="logits", splits=3)
    assert rel(mean3, float(per_split.mean())) <= 1e-10
    assert rel(std3, float(per_split.std())) <= 1e-7


def test_modified_inception_score_sees_collapse_inside_a_class():
    # Two sets with the same class histogram: one varied inside each class, one collapsed to a
    # single posterior per class. IS does not penalise the collapse (here it even rises); m-IS
    # drops to its minimum, 1.
    gen = torch.Generator().manual_seed(6)
    labels = torch.arange(1000) % 10
    varied = torch.randn(1000, 10, generator=gen, dtype=torch.float64) * 1.5
    varied[torch.arange(1000), labels] += 6.0
    collapsed = varied[labels]  # row i copies the logits of sample labels[i]: one per class
    assert (
        inception_score(collapsed, inputs="logits")[0]
        >= inception_score(varied, inputs="logits")[0]
    )
    assert modified_inception_score(varied, inputs="logits")[0] > 1.3
    assert modified_inception_score(collapsed, inputs="logits")[0] == pytest.approx(1.0)


# --------------------------------------------------------------------------------------------
# bad inputs
# --------------------------------------------------------------------------------------------
_P = torch.tensor(TWO_ROWS * 3, dtype=torch.float64)
BAD = [
    ("rank-1", lambda: inception_score(_P[0]), ValueError, "probs_or_logits: expected a 2-D"),
    (
        "rank-3",
        lambda: modified_inception_score(_P[None]),
        ValueError,
        "probs_or_logits: expected a 2-D",
    ),
    ("nan", lambda: inception_score(_P * float("nan"), 1), ValueError, "probs_or_logits: contains"),
    (
        "inf-logits",
        lambda: inception_score(_P * float("inf"), 1, inputs="logits"),
        ValueError,
        "probs_or_logits: contains",
    ),
    (
        "negative-probs",
        lambda: inception_score(_P - 0.5, 1),
        ValueError,
        "probs_or_logits: has negative entries.*inputs='logits'",
    ),
    (
        "rows-not-summing-to-1",
        lambda: inception_score(_P * 0.5, 1),
        ValueError,
        "probs_or_logits: rows must sum to 1",
    ),
    (
        "mis-rows-not-summing",
        lambda: modified_inception_score(_P * 2),
        ValueError,
        "probs_or_logits: rows must sum to 1",
    ),
    (
        "int-dtype",
        lambda: inception_score(torch.ones(4, 2, dtype=torch.int64), 1),
        TypeError,
        "probs_or_logits: expected floating-point",
    ),
    ("list", lambda: inception_score(TWO_ROWS, 1), TypeError, "probs_or_logits: expected a torch"),
    ("splits-gt-n", lambda: inception_score(_P, splits=7), ValueError, "splits: 7 splits need"),
    (
        "splits-zero",
        lambda: inception_score(_P, splits=0),
        ValueError,
        "splits: must be at least 1",
    ),
    (
        "splits-float",
        lambda: inception_score(_P, splits=2.0),
        TypeError,
        "splits: expected an integer",
    ),
    (
        "inputs-unknown",
        lambda: inception_score(_P, 1, inputs="softmax"),
        ValueError,
        "inputs: unknown",
    ),
    ("seed", lambda: inception_score(_P, 1, shuffle=True, seed="1"), TypeError, "seed: expected"),
    ("shuffle", lambda: inception_score(_P, 1, shuffle=1), TypeError, "shuffle: expected True"),
    (
        "grouping",
        lambda: modified_inception_score(_P, "per-class"),
        ValueError,
        "grouping: unknown",
    ),
    (
        "class-with-splits",
        lambda: modified_inception_score(_P, "class", splits=2),
        ValueError,
        "splits: only used with grouping='global'",
    ),
    (
        "mis-splits-gt-n",
        lambda: modified_inception_score(_P, "global", splits=9),
        ValueError,
        "splits: 9 splits need",
    ),
    (
        "empty",
        lambda: inception_score(torch.zeros(0, 3), 1),
        ValueError,
        "probs_or_logits: needs at least 1",
    ),
]


@pytest.mark.parametrize(("call", "exc", "match"), [pytest.param(*c[1:], id=c[0]) for c in BAD])
def test_bad_inputs_are_refused(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_probabilities_passed_as_logits_warn():
    with pytest.warns(UserWarning, match="look like probabilities"):
        inception_score(_P, 1, inputs="logits")


def test_float32_probabilities_are_accepted():
    p = torch.softmax(random_logits(200, 1008, seed=7).float(), 1)
    a = inception_score(p, 4)
    b = inception_score(p.double(), 4)
    assert rel(a[0], b[0]) <= 1e-6

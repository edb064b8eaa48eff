"""Inception Score (IS) and the modified Inception Score (m-IS).

IS (Salimans et al. 2016, "Improved Techniques for Training GANs", §4) scores a set of class
posteriors p(y|x) from a classifier: IS = exp(E_x KL(p(y|x) ‖ p(y))), p(y) the mean posterior.
Because E_x KL(p(y|x) ‖ p(y)) = H(y) − E_x H(y|x), IS rewards confident predictions (low
conditional entropy) that together cover many classes (high marginal entropy).

m-IS (Gurumurthy et al. 2017, "DeLiGAN: Generative Adversarial Networks for Diverse and Limited
Data", §5) replaces p(y) by another sample's posterior, m-IS = exp(E_{x_i} E_{x_j}
KL(p(y|x_i) ‖ p(y|x_j))), to reward diversity *within* a class.

Inputs are N×C matrices of either probabilities or logits; say which with ``inputs=``. Everything
is computed in float64 (log-softmax for logits) on the device of the input.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np
import torch

from lib._checks import ArrayLike, check_choice, check_positive_int, check_seed
from lib.metrics.frechet import _check_features

__all__ = [
    "EntropyTerms",
    "inception_score",
    "is_entropy_terms",
    "modified_inception_score",
    "modified_inception_score_groups",
]

_INPUTS = ("probs", "logits")
_GROUPINGS = ("class", "global")
# Rows of a probability matrix must sum to 1 within this absolute tolerance (float32 softmax
# outputs over ~1000 classes are within ~1e-6).
_SUM_ATOL = 1e-4
# log(0) is replaced by the log of the smallest normal float64, so 0 · log 0 = 0 in matrix
# products while a positive mass on an impossible class still costs (a huge but finite) KL.
_LOG_FLOOR = math.log(np.finfo(np.float64).tiny)
_NAME = "probs_or_logits"


def _probs_and_logs(
    value, inputs: str, shuffle_seed: int | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """(p, log p) in float64 from probabilities or logits, validated.

    With ``shuffle_seed`` the rows come out permuted by
    ``numpy.random.RandomState(shuffle_seed).permutation(N)`` (applied once, to the input).
    """
    check_choice(inputs, "inputs", _INPUTS)
    x = _check_features(value, _NAME, min_rows=1)
    if shuffle_seed is not None:
        perm = np.random.RandomState(shuffle_seed).permutation(x.shape[0])
        x = x[torch.from_numpy(perm).to(x.device)]
    x = x.to(torch.float64)
    if inputs == "probs":
        row_sums = x.sum(dim=1)
        if float(x.min()) < 0:
            raise ValueError(
                f"{_NAME}: has negative entries (min {float(x.min()):.4g}) so it is not a "
                "probability matrix; if these are logits, pass inputs='logits'"
            )
        worst = float((row_sums - 1).abs().max())
        if worst > _SUM_ATOL:
            raise ValueError(
                f"{_NAME}: rows must sum to 1 (worst row is off by {worst:.3g}); pass softmax "
                "outputs, or raw logits with inputs='logits'"
            )
        p = x / row_sums.unsqueeze(1)
        logp = torch.log(p).clamp(min=_LOG_FLOOR)
    else:
        # Only non-negative input can be a probability matrix: the row sums are needed then only.
        looks_like_probs = (
            x.shape[1] > 1
            and float(x.min()) >= 0
            and bool(((x.sum(dim=1) - 1).abs() <= _SUM_ATOL).all())
        )
        if looks_like_probs:
            warnings.warn(
                f"{_NAME}: every row is non-negative and sums to 1, so these look like "
                "probabilities, but inputs='logits' applies a softmax to them; pass "
                "inputs='probs' if they are probabilities",
                UserWarning,
                stacklevel=4,
            )
        logp = torch.log_softmax(x, dim=1)
        p = logp.exp()
    return p, logp


def _split_ids(n: int, splits: int, device: torch.device) -> torch.Tensor:
    """Split index of every row for contiguous splits [s·N//splits, (s+1)·N//splits)."""
    bounds = [s * n // splits for s in range(splits + 1)]
    counts = torch.tensor(np.diff(bounds), dtype=torch.int64)
    return torch.repeat_interleave(torch.arange(splits), counts).to(device)


class EntropyTerms(NamedTuple):
    """Per-split entropies of the IS decomposition (Salimans et al. 2016, §4), in nats.

    Float64 tensors of length ``splits``.

    ``marginal_entropy`` is H(y) of the split's mean posterior; ``conditional_entropy`` is
    E_x H(y|x). IS of each split is exp(H(y) − E_x H(y|x)) (:attr:`scores`).
    """

    marginal_entropy: torch.Tensor
    conditional_entropy: torch.Tensor

    @property
    def scores(self) -> torch.Tensor:
        return torch.exp(self.marginal_entropy - self.conditional_entropy)


def is_entropy_terms(
    probs_or_logits: ArrayLike,
    splits: int = 10,
    *,
    inputs: str = "probs",
    shuffle: bool = False,
    seed: int = 2020,
) -> EntropyTerms:
    """The two entropies behind the Inception Score, per split.

    E_x KL(p(y|x) ‖ p(y)) = H(y) − E_x H(y|x) with H(y) = −Σ_c p̄_c log p̄_c of the split mean
    p̄ = E_x p(y|x) and H(y|x) = −Σ_c p(c|x) log p(c|x) (Salimans et al. 2016, §4). Splits and
    ``inputs`` / ``shuffle`` / ``seed`` are as in :func:`inception_score`.
    """
    splits = check_positive_int(splits, "splits")
    seed = check_seed(seed)
    if not isinstance(shuffle, bool):
        raise TypeError(f"shuffle: expected True or False, got {type(shuffle).__name__}")
    p, logp = _probs_and_logs(probs_or_logits, inputs, seed if shuffle else None)
    n, c = p.shape
    if splits > n:
        raise ValueError(
            f"splits: {splits} splits need at least {splits} rows, but "
            f"{_NAME} has {n}; use fewer splits or more samples"
        )
    ids = _split_ids(n, splits, p.device)
    counts = torch.bincount(ids, minlength=splits).to(torch.float64)
    neg_entropy = (p * logp).sum(dim=1)  # Σ_c p log p per row (0 · log 0 = 0 via the floor)
    sum_neg_entropy = torch.zeros(splits, dtype=torch.float64, device=p.device)
    sum_neg_entropy.index_add_(0, ids, neg_entropy)
    cond = -sum_neg_entropy / counts
    marginal = torch.zeros(splits, c, dtype=torch.float64, device=p.device).index_add_(0, ids, p)
    marginal = marginal / counts.unsqueeze(1)
    h_marginal = -torch.special.xlogy(marginal, marginal).sum(dim=1)
    return EntropyTerms(h_marginal, cond)


def inception_score(
    probs_or_logits: ArrayLike,
    splits: int = 10,
    *,
    inputs: str = "probs",
    shuffle: bool = False,
    seed: int = 2020,
) -> tuple[float, float]:
    """Inception Score (Salimans et al. 2016, §4): ``(mean, std)`` over splits.

        IS = exp(E_x KL(p(y|x) ‖ p(y))) = exp(H(y) − E_x H(y|x)),

    computed separately on ``splits`` contiguous splits ``[s·N//splits : (s+1)·N//splits]`` (the
    original code's protocol: 10 splits of 50,000 images); returns the mean and the population
    std over splits. ``inputs`` says what the N×C matrix holds: ``"probs"`` (rows ≥ 0 that sum
    to 1 within 1e-4, renormalised exactly) or ``"logits"`` (log-softmax in float64 — pass the
    Inception network's unbiased logits for the published protocol). ``shuffle=True`` first
    permutes the rows with ``numpy.random.RandomState(seed).permutation(N)``, which reproduces
    ``torch_fidelity`` (its default, seed 2020).
    """
    terms = is_entropy_terms(probs_or_logits, splits, inputs=inputs, shuffle=shuffle, seed=seed)
    scores = terms.scores.cpu().numpy()
    return float(np.mean(scores)), float(np.std(scores))


def modified_inception_score_groups(
    probs_or_logits: ArrayLike,
    grouping: str = "class",
    *,
    inputs: str = "probs",
    splits: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-group modified Inception Score (Gurumurthy et al. 2017, DeLiGAN, §5).

    Returns ``(group_ids, scores)``; see :func:`modified_inception_score` for the groupings.

    ``group_ids`` are the predicted classes that occur (``grouping="class"``) or the split
    indices (``grouping="global"``); ``scores[g] = exp(mean over ordered pairs (i, j) in group g,
    i = j included, of KL(p_i ‖ p_j))``.
    """
    check_choice(grouping, "grouping", _GROUPINGS)
    splits = check_positive_int(splits, "splits")
    if grouping == "class" and splits != 1:
        raise ValueError(
            "splits: only used with grouping='global'; grouping='class' makes one "
            "group per predicted class"
        )
    p, logp = _probs_and_logs(probs_or_logits, inputs)
    n, c = p.shape
    if grouping == "class":
        ids, n_groups = torch.argmax(logp, dim=1), c
    else:
        if splits > n:
            raise ValueError(
                f"splits: {splits} splits need at least {splits} rows, but {_NAME} has {n}"
            )
        ids, n_groups = _split_ids(n, splits, p.device), splits
    counts = torch.bincount(ids, minlength=n_groups).to(torch.float64)
    present = counts > 0

    def group_mean(values: torch.Tensor) -> torch.Tensor:
        shape = (n_groups, *values.shape[1:])
        total = torch.zeros(shape, dtype=torch.float64, device=p.device).index_add_(0, ids, values)
        return total[present] / counts[present].reshape(-1, *([1] * (values.ndim - 1)))

    # Mean over all ordered pairs of KL(p_i‖p_j) = Σ p_i log p_i − Σ p_i log p_j factorises:
    #   (1/n²) Σ_ij KL = mean_i Σ_c p_ic log p_ic − Σ_c mean_i(p_ic) · mean_j(log p_jc),
    # i.e. the n×n KL matrix (a matrix product) summed in closed form: exact, O(n·C) memory.
    neg_entropy = group_mean((p * logp).sum(dim=1))
    cross = (group_mean(p) * group_mean(logp)).sum(dim=1)
    mean_kl = (neg_entropy - cross).clamp(min=0)  # ≥ 0 exactly; clamp removes round-off
    group_ids = torch.arange(n_groups, device=p.device)[present]
    return group_ids, torch.exp(mean_kl)


def modified_inception_score(
    probs_or_logits: ArrayLike,
    grouping: str = "class",
    *,
    inputs: str = "probs",
    splits: int = 1,
) -> tuple[float, float]:
    """Modified Inception Score (Gurumurthy et al. 2017, DeLiGAN, §5): ``(mean, std)``.

        m-IS = exp(E_{x_i} E_{x_j} KL(p(y|x_i) ‖ p(y|x_j))).

    ``grouping="class"`` (the authors' variant): samples are grouped by predicted class
    (argmax), the mean runs over all ordered pairs inside the group **including i = j**, exp is
    taken per class, and the mean and population std over the classes that occur are returned
    (a class predicted for a single sample scores 1). ``grouping="global"``: all ordered pairs of
    the whole set, no grouping (the SaShiMi variant, exact rather than sampled pairs); with
    ``splits > 1`` it is computed on contiguous splits as IS is and the std is over splits
    (with one split the std is 0).

    The pair average is exact: the N×N matrix of KL(p_i‖p_j) = Σ p_i log p_i − Σ p_i log p_j is
    a matrix product whose mean factorises, so no N×N matrix is ever built. Zero probabilities
    are handled as 0 · log 0 = 0; a positive mass where another sample has exactly zero gives
    a huge (not infinite) KL.
    """
    _, scores = modified_inception_score_groups(
        probs_or_logits, grouping, inputs=inputs, splits=splits
    )
    values = scores.cpu().numpy()
    return float(np.mean(values)), float(np.std(values))

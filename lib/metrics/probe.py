"""A linear probe: the tiny classifier behind the cheap GAN-train / GAN-test of the report card
(:mod:`lib.evaluation.report_card`)."""

from __future__ import annotations

import math
from numbers import Real

import torch
import torch.nn.functional as F
from sklearn.linear_model import Ridge

from lib._checks import check_positive_int

__all__ = ["LinearProbe"]


class LinearProbe:
    """A linear classifier fitted in closed form: the tiny classifier of the cheap GAN-train /
    GAN-test.

    With z = (x − m) / s (m, s the training features' mean and standard deviation, per
    column) and Y the N×C one-hot labels, the least-squares (ridge) fit

        W = (ZᵀZ + λ N I)⁻¹ Zᵀ (Y − ȳ),    b = ȳ − z̄ᵀW = ȳ  (z̄ = 0),

    predicts the class argmax_c (W z + b)_c. The fit is scikit-learn's
    ``Ridge(alpha=λN, fit_intercept=True, solver="cholesky")`` on the standardised features:
    one symmetric linear solve in float64, no iterations, no seed, milliseconds. The one-hot
    targets span all ``num_classes`` columns (not ``RidgeClassifier``'s ±1 targets over the
    classes present), so a class absent from the training labels keeps a zero column and is
    scored 0. Shmelkov et al. (2018) train a full CNN on the images; a linear classifier on a
    fixed network's features is their test with the representation held fixed
    (:func:`lib.metrics.gan_train_test` trains the CNN).
    """

    def __init__(
        self,
        features: torch.Tensor,
        labels: torch.Tensor,
        num_classes: int,
        *,
        l2: float = 1e-3,
    ) -> None:
        x = _check_matrix(features, "features")
        num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
        if isinstance(l2, bool) or not isinstance(l2, Real) or not 0 < float(l2) < math.inf:
            raise ValueError(f"l2: expected a positive number, got {l2!r}")
        y = torch.as_tensor(labels).to(x.device)
        if y.shape != (x.shape[0],) or y.dtype.is_floating_point or y.dtype == torch.bool:
            raise ValueError(
                f"labels: expected {x.shape[0]} integer labels, got shape {tuple(y.shape)} and "
                f"dtype {y.dtype}"
            )
        y = y.long()
        if int(y.min()) < 0 or int(y.max()) >= num_classes:
            raise ValueError(f"labels: must lie in 0..{num_classes - 1}")
        self.num_classes = num_classes
        self.mean = x.mean(0)
        # Standardised here rather than by StandardScaler, which leaves near-constant columns
        # unscaled instead of dividing by the clamped deviation.
        self.scale = x.std(0, correction=0).clamp_min(1e-8)
        z = (x - self.mean) / self.scale
        onehot = F.one_hot(y, num_classes).double()
        ridge = Ridge(alpha=float(l2) * x.shape[0], fit_intercept=True, solver="cholesky")
        ridge.fit(z.cpu().numpy(), onehot.cpu().numpy())
        self.weight = torch.from_numpy(ridge.coef_.T.copy()).to(x.device)
        self.bias = torch.from_numpy(ridge.intercept_.copy()).to(x.device)

    def predict(self, features: torch.Tensor) -> torch.Tensor:
        """The predicted class of every row of ``features``."""
        x = _check_matrix(features, "features")
        if x.shape[1] != self.weight.shape[0]:
            raise ValueError(f"features: expected {self.weight.shape[0]} columns, got {x.shape[1]}")
        z = (x.to(self.mean.device) - self.mean) / self.scale
        return (z @ self.weight + self.bias).argmax(1)

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        """Share of rows whose predicted class is the label."""
        predicted = self.predict(features)
        return float((predicted == torch.as_tensor(labels).to(predicted.device)).double().mean())


def _check_matrix(value, name: str) -> torch.Tensor:
    x = torch.as_tensor(value)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"{name}: expected an N×D matrix, got shape {tuple(x.shape)}")
    if not x.is_floating_point() or not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name}: expected finite floating-point values")
    return x.detach().double()

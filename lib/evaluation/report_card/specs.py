"""The columns of the report card: what each metric measures, which way is better, and whether
a person can read its number."""

from __future__ import annotations

import math
from dataclasses import dataclass

from lib import bench
from lib._checks import check_choice

__all__ = [
    "DIVERSITY_SETS",
    "FIDELITY_SETS",
    "INTERPRETABILITY",
    "METRICS",
    "MetricSpec",
    "format_value",
    "metric",
]

#: How readable a metric's number is, as a score for the criteria table.
INTERPRETABILITY: dict[str, float] = {"yes": 1.0, "partly": 0.5, "no": 0.0}


@dataclass(frozen=True)
class MetricSpec:
    """One column of the report card.

    ``better`` is ``"higher"`` or ``"lower"`` (the direction its authors read it in);
    ``looks_at`` says what it is meant to measure (``"fidelity"``, ``"diversity"`` or
    ``"both"``); ``needs`` what it is computed from (``"logits"``, ``"features"``, ``"pixels"``,
    ``"labels"``); ``interpretable`` is ``"yes"``, ``"partly"`` or ``"no"`` with ``reason``
    saying why; ``fmt`` formats a value for a table.
    """

    key: str
    label: str
    better: str
    looks_at: str
    needs: str
    interpretable: str
    reason: str
    fmt: str = "{:.3g}"

    @property
    def sign(self) -> float:
        """+1 when a larger value is worse (distances), −1 when a larger value is better."""
        return 1.0 if self.better == "lower" else -1.0


#: Every metric of the card, in column order.
METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        key="is",
        label="IS",
        better="higher",
        looks_at="both",
        needs="logits",
        interpretable="partly",
        reason=(
            "exp(H(y) − E H(y|x)): class coverage and confidence, but only in the classifier's "
            "classes, and never compared with real images"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="mis",
        label="m-IS",
        better="higher",
        looks_at="diversity",
        needs="logits",
        interpretable="partly",
        reason=(
            "like IS, with the KL between two images' predictions of one class: readable as "
            "'how differently the classifier sees two images of a class'"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="fid",
        label="FID",
        better="lower",
        looks_at="both",
        needs="features",
        interpretable="no",
        reason=(
            "a squared distance between Gaussians in feature units: its scale depends on the "
            "network and on N, and one number mixes fidelity and diversity"
        ),
        fmt="{:.3g}",
    ),
    MetricSpec(
        key="kid",
        label="KID",
        better="lower",
        looks_at="both",
        needs="features",
        interpretable="no",
        reason=(
            "MMD² in a cubic-kernel space: unbiased (can be < 0), but in no unit a person knows"
        ),
        fmt="{:.2g}",
    ),
    MetricSpec(
        key="swd",
        label="SWD",
        better="lower",
        looks_at="both",
        needs="pixels",
        interpretable="partly",
        reason=(
            "distances between distributions of 7×7 patches at each pyramid scale: no network, "
            "per-scale numbers say 'wrong texture' or 'wrong layout', but ×10³ normalised units"
        ),
        fmt="{:.3g}",
    ),
    MetricSpec(
        key="precision",
        label="precision",
        better="higher",
        looks_at="fidelity",
        needs="features",
        interpretable="yes",
        reason="the share of generated images inside the real data's k-NN manifold",
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="recall",
        label="recall",
        better="higher",
        looks_at="diversity",
        needs="features",
        interpretable="yes",
        reason="the share of real images inside the generated images' k-NN manifold",
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="density",
        label="density",
        better="higher",
        looks_at="fidelity",
        needs="features",
        interpretable="partly",
        reason=(
            "how many real neighbourhoods hold each generated image, ≈ 1 for real data; above 1 "
            "when images crowd into dense regions, so 'higher' is not always better"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="coverage",
        label="coverage",
        better="higher",
        looks_at="diversity",
        needs="features",
        interpretable="yes",
        reason="the share of real neighbourhoods that hold at least one generated image",
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="ms_ssim",
        label="MS-SSIM",
        better="lower",
        looks_at="diversity",
        needs="pixels",
        interpretable="yes",
        reason=(
            "the mean similarity of two images of one class (1 = copies), in pixels; blind to "
            "classes that are missing"
        ),
        fmt="{:.3f}",
    ),
    MetricSpec(
        key="label_acc",
        label="label acc.",
        better="higher",
        looks_at="fidelity",
        needs="labels",
        interpretable="yes",
        reason=(
            "the share of images the course classifier assigns to the class they were made for"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="gan_train",
        label="GAN-train",
        better="higher",
        looks_at="diversity",
        needs="labels",
        interpretable="yes",
        reason=(
            "accuracy on real images of a classifier trained on the generated ones; read against "
            "real→real"
        ),
        fmt="{:.2f}",
    ),
    MetricSpec(
        key="gan_test",
        label="GAN-test",
        better="higher",
        looks_at="fidelity",
        needs="labels",
        interpretable="yes",
        reason="accuracy on the generated images of a classifier trained on real ones",
        fmt="{:.2f}",
    ),
)
_BY_KEY = {m.key: m for m in METRICS}

#: The bench sets of :func:`lib.bench.bench_sets` that lose fidelity (pixel-level damage) and
#: those that lose diversity (for a 10-class set).
FIDELITY_SETS: tuple[str, ...] = bench.DEGRADATIONS
DIVERSITY_SETS: tuple[str, ...] = ("drop 5 of 10 modes", "2 per class", "memorised (1 per class)")


def metric(key: str) -> MetricSpec:
    """The :class:`MetricSpec` of ``key`` (e.g. ``"fid"``)."""
    if not isinstance(key, str):
        raise TypeError(f"metric: expected a metric key such as 'fid', got {type(key).__name__}")
    return _BY_KEY[check_choice(key, "metric", tuple(_BY_KEY))]


def format_value(key: str, value: float) -> str:
    """``value`` of metric ``key`` formatted for a table; ``"—"`` where it is not defined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    return metric(key).fmt.format(value)

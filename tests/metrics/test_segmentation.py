"""The segmentation score: pixel accuracy and IoU from one confusion matrix, checked by hand on
tiny label maps and against scikit-learn on random ones; any leading shape; clear errors; and the
convenience that runs the committed segmenter on street frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix, jaccard_score

from lib import metrics
from lib.datasets.street import street
from lib.metrics.segmentation import (
    scores_from_confusion,
    segmentation_confusion,
    segmentation_score,
    segmentation_scores,
)


def _random_maps(shape, num_classes=6, seed=0):
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(num_classes, shape, generator=gen)
    # Mostly right, as a segmenter would be: a quarter of the pixels get a random class.
    wrong = torch.rand(shape, generator=gen) < 0.25
    predicted = torch.where(wrong, torch.randint(num_classes, shape, generator=gen), labels)
    return predicted, labels


def test_a_hand_made_map_has_the_counted_accuracy_and_iou():
    labels = torch.tensor([[0, 0], [1, 1]])
    predicted = torch.tensor([[0, 1], [1, 1]])
    s = segmentation_scores(predicted, labels, num_classes=3)
    assert s["confusion"].tolist() == [[1, 1, 0], [0, 2, 0], [0, 0, 0]]
    assert s["pixel_accuracy"] == 3 / 4
    # class 0: 1 hit / (2 labelled + 1 predicted − 1); class 1: 2 / (2 + 3 − 2); class 2: 0/0.
    assert s["iou"][0] == 1 / 2 and s["iou"][1] == 2 / 3 and math.isnan(s["iou"][2])
    assert s["mean_iou"] == pytest.approx((1 / 2 + 2 / 3) / 2, abs=1e-15)
    assert isinstance(s["pixel_accuracy"], float) and isinstance(s["mean_iou"], float)
    assert s["iou"].dtype == torch.float64 and s["confusion"].dtype == torch.int64


def test_a_class_predicted_but_never_labelled_has_iou_zero_not_nan():
    labels = torch.zeros(3, 3, dtype=torch.long)
    predicted = labels.clone()
    predicted[0, 0] = 4
    s = segmentation_scores(predicted, labels)
    assert s["iou"][0] == 8 / 9 and s["iou"][4] == 0.0
    assert all(math.isnan(v) for v in s["iou"][[1, 2, 3, 5]].tolist())
    assert s["mean_iou"] == pytest.approx((8 / 9 + 0) / 2)
    assert s["pixel_accuracy"] == 8 / 9


def test_a_perfect_prediction_scores_one():
    _, labels = _random_maps((2, 3, 8, 8))
    s = segmentation_scores(labels, labels)
    assert s["pixel_accuracy"] == 1.0 and s["mean_iou"] == 1.0
    assert torch.equal(s["iou"], torch.ones(6, dtype=torch.float64))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_it_matches_scikit_learn_on_random_maps(seed):
    predicted, labels = _random_maps((3, 4, 16, 12), seed=seed)
    y, p = labels.numpy().ravel(), predicted.numpy().ravel()
    s = segmentation_scores(predicted, labels)
    assert np.array_equal(s["confusion"].numpy(), confusion_matrix(y, p, labels=range(6)))
    assert s["pixel_accuracy"] == pytest.approx(float((y == p).mean()), abs=1e-12)
    expected = jaccard_score(y, p, labels=range(6), average=None)
    np.testing.assert_allclose(s["iou"].numpy(), expected, rtol=1e-12)
    assert s["mean_iou"] == pytest.approx(float(expected.mean()), abs=1e-12)


def test_absent_classes_are_nan_only_in_their_own_entry_and_skipped_in_the_mean():
    predicted, labels = _random_maps((2, 16, 16), num_classes=4, seed=3)
    s = segmentation_scores(predicted, labels, num_classes=6)
    assert not s["iou"][:4].isnan().any() and s["iou"][4:].isnan().all()
    expected = jaccard_score(labels.ravel(), predicted.ravel(), labels=range(4), average=None)
    assert s["mean_iou"] == pytest.approx(float(expected.mean()), abs=1e-12)
    assert math.isfinite(s["pixel_accuracy"]) and math.isfinite(s["mean_iou"])


def test_any_leading_shape_and_numpy_give_the_same_scores():
    predicted, labels = _random_maps((2, 3, 8, 16), seed=4)
    reference = segmentation_scores(predicted, labels)
    for p, y in [
        (predicted.flatten(0, 1), labels.flatten(0, 1)),  # N×H×W
        (predicted.reshape(48, 16), labels.reshape(48, 16)),  # H×W
        (predicted.reshape(-1), labels.reshape(-1)),  # pixels
        (predicted.numpy(), labels.numpy().astype(np.uint8)),  # numpy, uint8 labels
    ]:
        s = segmentation_scores(p, y)
        assert torch.equal(s["confusion"], reference["confusion"])
        assert s["pixel_accuracy"] == reference["pixel_accuracy"]


def test_confusion_matrices_of_batches_add_up():
    predicted, labels = _random_maps((4, 8, 8), seed=5)
    whole = segmentation_confusion(predicted, labels)
    parts = segmentation_confusion(predicted[:1], labels[:1]) + segmentation_confusion(
        predicted[1:], labels[1:]
    )
    assert torch.equal(whole, parts) and int(whole.sum()) == labels.numel()
    s = scores_from_confusion(parts)
    assert s["pixel_accuracy"] == segmentation_scores(predicted, labels)["pixel_accuracy"]


def test_ignored_pixels_are_not_counted():
    predicted, labels = _random_maps((2, 8, 8), seed=6)
    void = labels.clone()
    void[:, :2] = 255
    s = segmentation_scores(predicted, void, ignore_index=255)
    kept = segmentation_scores(predicted[:, 2:], labels[:, 2:])
    assert torch.equal(s["confusion"], kept["confusion"])
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 5\]"):
        segmentation_scores(predicted, void)  # 255 without ignore_index
    with pytest.raises(ValueError, match="ignore_index: 3 is one of the classes"):
        segmentation_scores(predicted, labels, ignore_index=3)
    with pytest.raises(ValueError, match="no pixels were counted"):
        segmentation_scores(predicted, torch.full_like(labels, 255), ignore_index=255)


def test_it_runs_on_the_inputs_device(device):
    predicted, labels = _random_maps((2, 8, 8), seed=7)
    s = segmentation_scores(predicted.to(device), labels.to(device))
    assert s["confusion"].device.type == "cpu"
    assert torch.equal(s["confusion"], segmentation_confusion(predicted, labels))


@pytest.mark.parametrize(
    ("predicted", "labels", "kwargs", "error", "match"),
    [
        (torch.rand(2, 6, 4, 4), torch.zeros(2, 4, 4, dtype=torch.long), {}, TypeError, "argmax"),
        (torch.zeros(2, 4, 4, dtype=torch.long), torch.zeros(2, 4, 4), {}, TypeError, "labels"),
        (torch.zeros(4, 4, dtype=torch.bool), torch.zeros(4, 4, dtype=torch.long), {}, TypeError,
         "predicted"),
        (torch.zeros(2, 4, 4, dtype=torch.long), torch.zeros(2, 4, 5, dtype=torch.long), {},
         ValueError, "same shape"),
        (torch.full((4, 4), 6), torch.zeros(4, 4, dtype=torch.long), {}, ValueError,
         r"predicted: class ids must lie in \[0, 5\].*\[6, 6\]"),
        (torch.zeros(4, 4, dtype=torch.long), torch.full((4, 4), -1), {}, ValueError,
         "labels: class ids"),
        (torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), {}, ValueError,
         "no pixels"),
        (torch.zeros(4, 4, dtype=torch.long), torch.zeros(4, 4, dtype=torch.long),
         {"num_classes": 1}, ValueError, "num_classes"),
        ([[0, 1]], torch.zeros(1, 2, dtype=torch.long), {}, TypeError, "numpy"),
    ],
)  # fmt: skip
def test_bad_inputs_are_refused_with_a_clear_message(predicted, labels, kwargs, error, match):
    with pytest.raises(error, match=match):
        segmentation_scores(predicted, labels, **kwargs)


def test_bad_confusion_matrices_are_refused():
    with pytest.raises(ValueError, match="C×C"):
        scores_from_confusion(torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="integer pixel counts"):
        scores_from_confusion(torch.eye(3))
    with pytest.raises(ValueError, match="non-negative"):
        scores_from_confusion(-torch.eye(3, dtype=torch.long))


def test_it_is_exported_from_lib_metrics():
    assert metrics.segmentation_score is segmentation_score
    assert metrics.segmentation_scores is segmentation_scores
    assert "segmentation_score" in metrics.__all__


# ------------------------------------------------------------------- with the committed network
@pytest.fixture(scope="module")
def held_out():
    # Seed 8: the segmenter's held-out clips (it trained on seed 7).
    return street(4, frames=3, size=64, seed=8)


def test_real_frames_score_high_and_mismatched_labels_low(held_out):
    real = segmentation_score(held_out.frames, held_out.labels)
    assert real["pixel_accuracy"] > 0.95 and real["mean_iou"] > 0.8
    # Frames of other clips than their labels: the score sees that content is misplaced.
    shuffled = segmentation_score(held_out.frames, held_out.labels.roll(1, 0))
    assert shuffled["mean_iou"] < real["mean_iou"] - 0.2
    # Clips, frames and batch sizes: the same pixels, the same matrix.
    frames = segmentation_score(
        held_out.frames.flatten(0, 1), held_out.labels.flatten(0, 1), batch_size=5
    )
    assert torch.equal(frames["confusion"], real["confusion"])


def test_segmentation_score_refuses_bad_frames_and_labels(held_out):
    x, y = held_out.frames, held_out.labels
    with pytest.raises(ValueError, match="N×T×3×H×W clips or N×3×H×W"):
        segmentation_score(x[0, 0], y[0, 0])
    with pytest.raises(ValueError, match="one label map per frame"):
        segmentation_score(x, y[:, :2])
    with pytest.raises(ValueError, match=r"\(x \+ 1\) / 2"):
        segmentation_score(x * 2 - 1, y)
    with pytest.raises(TypeError, match="argmax"):
        segmentation_score(x, y.float())
    with pytest.raises(TypeError, match="StreetSegmenter"):
        segmentation_score(x, y, segmenter=torch.nn.Identity())  # type: ignore[arg-type]

"""The course network ``scene-layout``: shapes and input checks, its targets, the ``"layout"``
perceptual backend, and the committed weights (checksum, the quality its manifest records on
fresh held-out scenes, and what it is for: a scene's cartoon is near its photo)."""

from __future__ import annotations

import json

import pytest
import torch

from lib.features.perceptual import LayoutPerceptual, perceptual_loss, perceptual_net
from lib.features.scene_layout import (
    SCENE_LAYOUT_CLASSES,
    SCENE_LAYOUT_DIR,
    SCENE_LAYOUT_NET,
    SceneLayoutNet,
    layout_classes,
    load_scene_layout_net,
)
from lib.models.cartoongan_diagnostics import content_style_confusion
from lib.train.recipes.scene_layout import HELD_OUT_SEED, held_out_scores, rendered_scenes


def _entry() -> dict:
    return json.loads((SCENE_LAYOUT_DIR / "manifest.json").read_text())[SCENE_LAYOUT_NET]


def test_logits_features_and_predictions_have_the_expected_shapes(one_thread):
    net = SceneLayoutNet().eval()
    assert 50_000 <= sum(p.numel() for p in net.parameters()) <= 200_000
    x = torch.rand(2, 3, 64, 48)
    assert net(x).shape == (2, SCENE_LAYOUT_CLASSES, 64, 48)
    shapes = [tuple(f.shape) for f in net.stage_features(x)]
    assert shapes == [(2, 16, 64, 48), (2, 32, 32, 24), (2, 64, 16, 12)]
    ids = net.predict(x, batch_size=1)
    assert ids.shape == (2, 64, 48) and ids.dtype == torch.int64
    assert torch.equal(ids, net(x).argmax(1)) and torch.equal(ids, net.predict(x))
    net.train()
    net.predict(x)
    assert net.training  # the mode is restored


def test_bad_inputs_and_arguments_get_clear_errors():
    net = SceneLayoutNet()
    with pytest.raises(ValueError, match="multiples of 4"):
        net(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match="channels"):
        net(torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="3 positive channel counts"):
        SceneLayoutNet((16, 32))
    with pytest.raises(ValueError, match="scene_layouts"):
        layout_classes(torch.zeros(1, 64, 64, dtype=torch.int32))
    with pytest.raises(TypeError, match="SceneLayoutNet"):
        LayoutPerceptual(network=torch.nn.Identity())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="path"):
        perceptual_net(backend="layout", path="vgg19.pth")


def test_layout_classes_merge_late_shapes_into_the_last_class():
    layouts = torch.tensor([0, 3, 10, 11, 12, 40], dtype=torch.int32).view(1, 1, 2, 3)
    assert layout_classes(layouts).tolist() == [[[0, 3, 10], [11, 11, 11]]]


def test_the_layout_backend_exposes_the_stages_frozen_and_copied():
    inner = SceneLayoutNet()
    net = perceptual_net(["stage1", "stage3"], backend="layout", device="cpu")
    assert isinstance(net, LayoutPerceptual) and net.backend == "layout"
    assert "scene-layout" in net.describe() and "C = 3" in net.describe()
    own = LayoutPerceptual(["stage1", "stage2", "stage3"], network=inner)
    assert own.network is not inner  # copied: the caller's network is left as it was
    x = torch.rand(2, 3, 32, 32, requires_grad=True)
    maps = own(x)
    assert [tuple(m.shape) for m in maps.values()] == [
        (2, 16, 32, 32),
        (2, 32, 16, 16),
        (2, 64, 8, 8),
    ]
    assert all(not p.requires_grad for p in own.parameters())
    perceptual_loss(own, x, torch.rand(2, 3, 32, 32)).backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0
    own.train()
    assert not own.training  # a loss network stays in eval mode
    with pytest.raises(ValueError, match="available: stage1, stage2, stage3"):
        LayoutPerceptual(["stage4"], network=inner)
    with pytest.raises(ValueError, match="multiples of 4"):
        own(torch.rand(1, 3, 30, 30))


def test_committed_network_matches_its_manifest_on_fresh_held_out_scenes(one_thread):
    """The committed weights reproduce the manifest's held-out numbers, and they are what a
    content network needs: a pixel accuracy well above the backdrop's share on both renderings,
    and a scene's cartoon nearer its photo than another scene's photo (confusion ratio < 0.5)."""
    entry = _entry()
    net = load_scene_layout_net()
    assert entry["held_out"]["seed"] == HELD_OUT_SEED
    fresh = held_out_scores(net, n=entry["held_out"]["scenes"])
    for key in ("accuracy_photos", "accuracy_cartoons", "confusion_ratio"):
        assert fresh[key] == pytest.approx(entry["held_out"][key], abs=2e-3)
    assert fresh["accuracy_photos"] > 0.7 and fresh["accuracy_cartoons"] > 0.7
    assert fresh["confusion_ratio"] < 0.5
    assert "sha256" in net.weights_description()


def test_training_is_what_puts_a_scene_s_cartoon_near_its_photo(one_thread):
    """Control: the same architecture untrained (three initialisations) puts a held-out
    scene's cartoon at 0.57–0.86 of another scene's distance at stage3, the trained one at 0.37
    (the manifest): a random convolutional network is partly blind to style, the layout task
    makes it much more so."""
    photos, _ = rendered_scenes(128, seed=HELD_OUT_SEED, style="photo")
    toons, _ = rendered_scenes(128, seed=HELD_OUT_SEED, style="cartoon")
    trained = _entry()["held_out"]["confusion_ratio"]
    for seed in range(3):
        torch.manual_seed(seed)
        untrained = LayoutPerceptual(["stage3"], network=SceneLayoutNet().eval())
        ratio = content_style_confusion(untrained, photos, toons)["ratio"]
        assert ratio > 0.5 > trained + 0.1

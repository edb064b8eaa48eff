"""The CartoonGAN test set's content check: how far a content network puts a scene's cartoon."""

import pytest
import torch

import lib.evaluation.cartoongan_bars as cgb
from lib.models import cartoongan as cg


@pytest.fixture(scope="module")
def test_set():
    return cgb.cartoongan_test_set()


@pytest.fixture(scope="module")
def net():
    return cg.content_net("course", device="cpu")


def test_confusion_is_zero_for_the_photo_itself_and_one_for_another_scene(test_set, net):
    """Oracles: a "cartoon" equal to its photo is at distance 0; a "cartoon" that is the
    neighbouring scene's photo is exactly as far as the other scene (ratio 1)."""
    photos = test_set.photos[:8]
    other_scene = float(cg.content_loss(net, photos.roll(1, 0), photos, omega=1.0))
    assert other_scene > 0
    same = cgb.CartoonTestSet(photos, photos.clone(), test_set.layouts[:8])
    assert cgb.content_style_confusion(net, same) == {
        "same_scene": 0.0,
        "other_scene": pytest.approx(other_scene, rel=1e-6),
        "ratio": 0.0,
    }
    other = cgb.CartoonTestSet(photos, photos.roll(1, 0), test_set.layouts[:8])
    assert cgb.content_style_confusion(net, other)["ratio"] == pytest.approx(1.0, abs=1e-6)


def test_the_course_network_puts_a_scene_s_cartoon_as_far_as_another_scene(test_set, net):
    """Notebook 12, section 5: the course content network's distance from a photo to the
    cartoon of the same scene is ≥ 0.8 of its distance to another scene's photo, while a
    blurred photo stays far nearer (the network sees style as much as content)."""
    found = cgb.content_style_confusion(net, test_set)
    assert found["ratio"] > 0.8
    blurred = torch.nn.functional.avg_pool2d(test_set.photos, 3, stride=1, padding=1)
    near = cgb.CartoonTestSet(test_set.photos, blurred, test_set.layouts)
    assert cgb.content_style_confusion(net, near)["ratio"] < 0.5


def test_confusion_needs_two_scenes(test_set, net):
    one = cgb.CartoonTestSet(test_set.photos[:1], test_set.cartoons[:1], test_set.layouts[:1])
    with pytest.raises(ValueError, match="at least 2 scenes"):
        cgb.content_style_confusion(net, one)


def test_the_scene_layout_network_puts_a_scene_s_cartoon_near_its_photo(test_set, net):
    """The course's answer (lib.features.scene_layout): trained to tell which shape covers each
    pixel in both renderings, its stage3 features put a test scene's cartoon at under half the
    distance of another scene's photo, where the course classifier puts it farther."""
    layout = cgb.content_style_confusion(cg.content_net("layout", device="cpu"), test_set)
    assert layout["ratio"] < 0.5
    assert layout["ratio"] < cgb.content_style_confusion(net, test_set)["ratio"] / 2

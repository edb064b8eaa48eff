"""Whether a translated image keeps the scene's regions: the layouts of the procedural scenes and
the boundary F-score against them."""

from __future__ import annotations

import importlib

import pytest
import torch

from lib.datasets.cartoon import SCENE_TYPES, cartoons, photo_renders, scene_layouts
from lib.metrics.cartoon import boundary_f_score

scenes_module = importlib.import_module("lib.datasets.cartoon.scenes")


def test_scene_layouts_are_both_styles_region_maps_and_independent_of_n():
    layout = scene_layouts(12, size=48, seed=7)
    assert layout.shape == (12, 1, 48, 48) and layout.dtype == torch.int32
    args = (12, 48, 48, 7, SCENE_TYPES, torch.device("cpu"))
    *_, photo_layout = scenes_module._render(
        *args, style="photo", blur=0.4, noise=0.02, regions=True
    )
    assert torch.equal(layout, photo_layout)
    assert torch.equal(scene_layouts(5, size=48, seed=7), layout[:5])
    assert int(layout.min()) == 0 and int(layout.max()) > 3  # a backdrop and shapes on it
    forest = scene_layouts(3, seed=1, scenes=("forest",))
    assert forest.shape == (3, 1, 64, 64)


def _split(offset: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A 32² layout split at column 16 and an image whose colours change at 16 + offset."""
    layout = torch.zeros(1, 1, 32, 32, dtype=torch.int64)
    layout[..., 16:] = 1
    image = torch.full((1, 3, 32, 32), 0.2)
    image[..., 16 + offset :] = 0.8
    return image, layout


def test_boundary_f_score_on_known_edges():
    image, layout = _split()
    assert float(boundary_f_score(image, layout)) == pytest.approx(1.0)
    shifted, _ = _split(3)  # the edge three pixels off the boundary
    assert float(boundary_f_score(shifted, layout)) == 0.0
    assert float(boundary_f_score(shifted, layout, tolerance=3)) == pytest.approx(1.0)
    blank = torch.full((1, 3, 32, 32), 0.5)
    assert float(boundary_f_score(blank, layout)) == 0.0
    # Only the upper half of the boundary drawn, and a false edge across the right half where
    # the colour changes back: about half the edges are right (P ≈ 1/2), half the boundary is
    # found (R ≈ 1/2), F ≈ 1/2.
    half = image.clone()
    half[..., 16:, :] = 0.2
    assert float(boundary_f_score(half, layout)) == pytest.approx(0.5, abs=0.05)
    assert torch.isnan(boundary_f_score(blank, torch.zeros_like(layout))).all()


def test_boundary_f_score_ranks_cartoons_photos_and_noise():
    layout = scene_layouts(32, seed=11)
    toon = boundary_f_score(cartoons(32, seed=11), layout).mean()
    photo = boundary_f_score(photo_renders(32, seed=11), layout).mean()
    other = boundary_f_score(cartoons(32, seed=12), layout).mean()
    noise = boundary_f_score(
        torch.rand(32, 3, 64, 64, generator=torch.Generator().manual_seed(0)), layout
    )
    # measured 0.88, 0.72, 0.35 on the evaluation seed; another scene's cartoon is not close
    assert float(toon) > 0.8 and float(photo) > 0.6
    assert float(toon) > float(photo) + 0.1
    assert float(other) < 0.6 * float(toon) and float(noise.mean()) < 0.5 * float(toon)


@pytest.mark.parametrize(
    ("layouts", "kwargs", "error", "match"),
    [
        (torch.zeros(2, 1, 16, 16), {}, TypeError, "integer tensor"),
        (torch.zeros(2, 1, 8, 16, dtype=torch.int32), {}, ValueError, "match the images"),
        (torch.zeros(2, 1, 16, 16, dtype=torch.int32), {"tolerance": -1}, ValueError, "tolerance"),
    ],
)
def test_boundary_f_score_bad_inputs(layouts, kwargs, error, match):
    with pytest.raises(error, match=match):
        boundary_f_score(torch.rand(2, 3, 16, 16), layouts, **kwargs)

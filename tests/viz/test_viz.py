"""lib.viz: save_fig writes where it should, atomically; grids and clips validate their input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import lib.viz as viz  # noqa: E402
from lib.paths import FIGURES_DIR  # noqa: E402


@pytest.fixture
def figures(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FIGURES_DIR", str(tmp_path / "figs"))
    return tmp_path / "figs"


def test_save_fig_writes_png_atomically_and_reproducibly(figures):
    viz.set_theme()
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = viz.save_fig("99_test_line", fig)
    assert path == figures / "99_test_line.png"
    first = path.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in figures.iterdir()] == ["99_test_line.png"]  # no temporary left
    viz.save_fig("99_test_line", fig)
    assert path.read_bytes() == first  # no timestamp: re-running gives the same bytes
    plt.close(fig)


def test_figures_dir_defaults_to_the_course_folder(monkeypatch):
    monkeypatch.delenv("COURSE_FIGURES_DIR", raising=False)
    assert viz.figures_dir() == FIGURES_DIR


@pytest.mark.parametrize("name", ["../escape", "a/b", "fig.png", "", "with space", None])
def test_save_fig_refuses_bad_names(figures, name):
    with pytest.raises(ValueError, match="name: expected a plain file stem"):
        viz.save_fig(name)


def test_image_grid_and_labels():
    images = torch.rand(5, 3, 8, 8)
    ax = viz.image_grid(images, ["a", "b", "c", "d", "e"], ncols=3)
    assert len(ax.texts) == 5
    shown = ax.images[0].get_array()
    assert shown.shape == (2 * (8 + 1 + 4) + 1, 3 * (8 + 1) + 1, 3)  # 2 rows, 3 columns, labels
    plt.close(ax.figure)
    grey = viz.image_grid(torch.rand(4, 1, 6, 6))
    assert grey.images[0].get_array().shape[-1] == 3
    plt.close(grey.figure)
    with pytest.raises(ValueError, match="expected 5 labels"):
        viz.image_grid(images, ["a"])


@pytest.mark.parametrize(
    "images, error, match",
    [
        (torch.rand(3, 8, 8), ValueError, "4-D"),
        (torch.rand(2, 2, 8, 8), ValueError, "channel"),
        (torch.rand(2, 3, 8, 8) * 2, ValueError, r"\[0, 1\]"),
        (torch.full((1, 3, 4, 4), float("nan")), ValueError, "NaN"),
        ([[1, 2]], TypeError, "torch.Tensor or numpy array"),
    ],
)
def test_to_display_validates(images, error, match):
    with pytest.raises(error, match=match):
        viz.to_display(images)


def test_to_display_accepts_uint8():
    arr = viz.to_display(torch.full((2, 3, 4, 4), 255, dtype=torch.uint8))
    assert arr.shape == (2, 4, 4, 3) and float(arr.max()) == 1.0


def test_clip_animation_and_html():
    clip = torch.rand(6, 3, 10, 10)
    anim = viz.clip_animation([clip, clip.flip(-1)], titles=["clip", "mirrored"], fps=5)
    assert len(list(anim.new_frame_seq())) == 6
    html = viz.show_clip(clip, fps=4)
    assert "<script" in html.data and "img" in html.data
    with pytest.raises(ValueError, match="same length"):
        viz.clip_animation([clip, clip[:3]])
    with pytest.raises(ValueError, match="fps"):
        viz.clip_animation(clip, fps=0)

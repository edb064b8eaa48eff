"""The scene-layout network's trainer: a tiny run writes a loadable float16 file and a manifest
entry with held-out scores; its data never touches CartoonGAN's scenes; bad arguments end with
one ``error:`` line."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from lib.datasets.cartoon import cartoons, photo_renders, scene_layouts
from lib.evaluation.cartoongan_bars import CARTOONGAN_TEST
from lib.features.scene_layout import SCENE_LAYOUT_CLASSES, load_scene_layout_net
from lib.train.recipes.scene_layout import (
    CARTOON_SEED,
    HELD_OUT_SEED,
    PHOTO_SEED,
    main,
    rendered_scenes,
)


def test_a_tiny_run_writes_a_loadable_file_and_its_manifest_entry(tmp_path, one_thread):
    argv = ["--steps", "2", "--batch", "2", "--scenes", "4", "--held-out", "4"]
    argv += ["--out", str(tmp_path)]
    assert main(argv) == 0
    entry = json.loads((tmp_path / "manifest.json").read_text())["scene-layout"]
    assert entry["command"] == "python -m lib.train scene_layout " + " ".join(argv)
    assert entry["steps"] == 2 and entry["scenes"] == 4 and entry["dtype"] == "float16"
    assert entry["train_seconds"] >= 0 and entry["cpu_seconds"] >= 0 and entry["torch"]
    held_out = entry["held_out"]
    assert held_out["seed"] == HELD_OUT_SEED and held_out["scenes"] == 4
    assert 0 <= held_out["accuracy_photos"] <= 1 and 0 <= held_out["accuracy_cartoons"] <= 1
    assert set(held_out["confusion_by_stage"]) == {"stage1", "stage2", "stage3"}
    assert held_out["confusion_ratio"] == held_out["confusion_by_stage"]["stage3"] > 0
    stored = load_file(tmp_path / "scene-layout.safetensors")
    assert {v.dtype for v in stored.values() if v.is_floating_point()} == {torch.float16}
    net = load_scene_layout_net(folder=tmp_path)
    assert net.predict(torch.rand(1, 3, 64, 64)).shape == (1, 64, 64)
    assert "held-out pixel accuracy" in net.weights_description()
    assert not (tmp_path / "scene-layout-state.pt").exists()  # finished: nothing to resume


def test_the_training_scenes_are_unpaired_and_apart_from_cartoongan_s():
    """Cartoons and photo renders of different scenes (as CartoonGAN's own data); none of the
    seeds is one CartoonGAN trains on (10·s + 1, 10·s + 2 for s < 10) or is tested on."""
    seeds = {CARTOON_SEED, PHOTO_SEED, HELD_OUT_SEED}
    assert len(seeds) == 3 and CARTOONGAN_TEST["seed"] not in seeds
    assert not seeds & {10 * s + k for s in range(10) for k in (1, 2)}
    toons, toon_labels = rendered_scenes(4, seed=CARTOON_SEED, style="cartoon")
    photos, photo_labels = rendered_scenes(4, seed=PHOTO_SEED, style="photo")
    assert toons.shape == photos.shape == (4, 3, 64, 64)
    assert torch.equal(toons, cartoons(4, size=64, seed=CARTOON_SEED).images)
    assert torch.equal(photos, photo_renders(4, size=64, seed=PHOTO_SEED).images)
    assert not torch.equal(toon_labels, photo_labels)  # other scenes, other layouts
    layout = scene_layouts(4, size=64, seed=PHOTO_SEED)[:, 0].long()
    assert torch.equal(photo_labels, layout.clamp(max=SCENE_LAYOUT_CLASSES - 1))


@pytest.mark.parametrize(
    "argv",
    [["--steps", "0"], ["--scenes", "1"], ["--held-out", "1"], ["--lr", "0"], ["--batch", "x"]],
)
def test_bad_arguments_end_with_one_error_line(argv, capsys):
    from lib.train.__main__ import main as train_main

    with pytest.raises(SystemExit) as stop:
        train_main(["scene_layout", *argv])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python -m lib.train scene_layout: error: "), err
    assert not any("Traceback" in line for line in err)

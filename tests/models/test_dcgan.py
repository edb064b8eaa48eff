"""The class-conditional DCGAN, its committed checkpoints, and the training pieces in lib.train."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest
import torch

import lib.datasets as datasets
import lib.features as features
from lib._io import sha256_file
from lib.metrics import fid
from lib.models import (
    ConditionalDiscriminator,
    ConditionalGenerator,
    checkpoint_steps,
    generate,
    load_generator,
)
from lib.models.dcgan import GAN_DIR
from lib.train import progress, seed_everything
from lib.train.recipes.dcgan import Recipe, checkpoint_schedule, train
from lib.weights import (
    half_precision,
    read_manifest,
    read_weights,
    update_manifest,
    write_weights,
)

# Measured on the committed final shapes checkpoint (2,000 samples, shapes-cnn); the test uses
# other noise, so it keeps a margin.
SHAPES_LABEL_ACCURACY = 0.65
DIGITS_LABEL_ACCURACY = 0.99
MARGIN = 0.07


@pytest.fixture(scope="module")
def shapes_cnn():
    return features.get("shapes-cnn", device="cpu")


# ------------------------------------------------------------------------------ networks
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_discriminator_shapes_and_range(channels, device):
    torch.manual_seed(0)
    g = ConditionalGenerator(channels, 10).to(device)
    d = ConditionalDiscriminator(channels, 10).to(device)
    assert (g.z_dim, g.num_classes, g.channels) == (64, 10, channels)
    assert sum(p.numel() for p in g.parameters()) < 400_000
    z = torch.randn(6, g.z_dim, device=device)
    y = torch.arange(6, device=device)
    x = g(z, y)
    assert x.shape == (6, channels, 32, 32) and x.device.type == device
    assert float(x.detach().min()) >= 0.0 and float(x.detach().max()) <= 1.0
    scores = d(x, y)
    assert scores.shape == (6,) and d.last_class_logits.shape == (6, 10)
    scores.sum().backward()  # differentiable through both networks
    assert g.to_image.weight.grad is not None


def test_networks_refuse_bad_inputs():
    g, d = ConditionalGenerator(3, 10), ConditionalDiscriminator(3, 10)
    with pytest.raises(ValueError, match="z: expected shape"):
        g(torch.randn(4, 32), torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match=r"y: labels must lie in 0\.\.9"):
        g(torch.randn(2, 64), torch.tensor([0, 10]))
    with pytest.raises(TypeError, match="integer class labels"):
        g(torch.randn(2, 64), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="x: expected N×3×32×32"):
        d(torch.rand(2, 1, 32, 32), torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="channels"):
        ConditionalGenerator(2, 10)


# ------------------------------------------------------------------------------ generate
def test_generate_is_deterministic_balanced_and_batch_independent():
    torch.manual_seed(0)
    g = ConditionalGenerator(3, 10)
    a = generate(g, 25, seed=3)
    b = generate(g, 25, seed=3, batch_size=7)
    c = generate(g, 25, seed=4)
    assert isinstance(a, datasets.ImageSet) and a.images.shape == (25, 3, 32, 32)
    assert torch.equal(a.labels, b.labels)
    torch.testing.assert_close(a.images, b.images, atol=1e-5, rtol=0)
    assert not torch.allclose(a.images, c.images)
    assert a.class_counts().tolist() == [3] * 5 + [2] * 5
    assert g.training  # the caller's mode is restored
    assert (generate(g, 4, labels=7).labels == 7).all()
    given = torch.tensor([1, 1, 2, 9])
    assert torch.equal(generate(g, 4, labels=given).labels, given)


def test_generate_refuses_bad_inputs():
    g = ConditionalGenerator(1, 10)
    with pytest.raises(ValueError, match="n: must be at least 1"):
        generate(g, 0)
    with pytest.raises(ValueError, match=r"labels: class 10 is out of range 0\.\.9"):
        generate(g, 4, labels=10)
    with pytest.raises(ValueError, match=r"labels: labels must lie in 0\.\.9"):
        generate(g, 2, labels=torch.tensor([0, -1]))
    with pytest.raises(ValueError, match=r"labels: expected shape \(3,\)"):
        generate(g, 3, labels=torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="generator"):
        generate(torch.nn.Linear(2, 2), 3)


# ------------------------------------------------------------------------------ checkpoints
@pytest.mark.parametrize("dataset", ["shapes", "digits"])
def test_checkpoints_are_listed_sorted_and_load(dataset):
    steps = checkpoint_steps(dataset)
    assert steps == sorted(set(steps)) and steps[0] == 0 and len(steps) >= 6
    for step in (steps[0], steps[len(steps) // 2]):
        g = load_generator(dataset, step)
        assert g.step == step and not g.training
    final = load_generator(dataset)
    assert final.step == steps[-1] and final.channels == (3 if dataset == "shapes" else 1)
    assert all(p.dtype == torch.float32 for p in final.parameters())
    images = generate(final, 20, seed=1)
    assert float(images.images.min()) >= 0 and float(images.images.max()) <= 1
    assert (
        images.class_names
        == datasets.load(dataset, *(() if dataset == "digits" else (10,))).class_names
    )


def test_checkpoint_files_are_small():
    total = sum(p.stat().st_size for p in GAN_DIR.glob("*.safetensors"))
    assert total <= 10 * 2**20
    manifest = read_manifest(GAN_DIR)
    for dataset in ("shapes", "digits"):
        for entry in manifest[dataset]["checkpoints"]:
            assert entry["sha256"] == sha256_file(GAN_DIR / entry["file"])


def test_unknown_dataset_and_step_are_clear_errors():
    with pytest.raises(ValueError, match="dataset: unknown value 'cifar10'"):
        load_generator("cifar10")
    with pytest.raises(ValueError, match="dataset: unknown value"):
        checkpoint_steps("mnist")
    steps = checkpoint_steps("shapes")
    with pytest.raises(ValueError, match=rf"at step 7; available steps: \[0, {steps[1]}"):
        load_generator("shapes", 7)
    with pytest.raises(TypeError, match="step"):
        load_generator("shapes", 1.5)


def test_corrupt_missing_and_pickled_checkpoints_are_refused(tmp_path):
    folder = tmp_path / "gan"
    shutil.copytree(GAN_DIR, folder)
    final = checkpoint_steps("shapes", folder=folder)[-1]
    assert isinstance(load_generator("shapes", folder=folder), ConditionalGenerator)
    path = folder / f"shapes-step{final}.safetensors"
    data = bytearray(path.read_bytes())
    data[-200] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum mismatch.*lib.train dcgan --dataset shapes"):
        load_generator("shapes", folder=folder)
    path.unlink()
    with pytest.raises(FileNotFoundError, match=f"shapes-step{final}.safetensors.*missing"):
        load_generator("shapes", folder=folder)

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    path.write_bytes(pickle.dumps({"weight": Payload()}))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["shapes"]["checkpoints"][-1]["sha256"] = sha256_file(path)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="refused to load|cannot be read"):
        load_generator("shapes", folder=folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json.*missing.*lib.train dcgan"):
        checkpoint_steps("shapes", folder=folder)


# ------------------------------------------------------------------------------ quality
def test_final_shapes_generator_draws_its_conditioning_class(shapes_cnn):
    g = load_generator("shapes")
    fake = generate(g, 1000, seed=2024)
    predicted = shapes_cnn.logits(fake.images).argmax(1)
    accuracy = float((predicted == fake.labels).float().mean())
    assert accuracy >= SHAPES_LABEL_ACCURACY - MARGIN
    assert accuracy == pytest.approx(g.info["label_accuracy"], abs=0.06)


def test_final_digits_generator_draws_its_conditioning_class():
    net = features.get("digits-cnn", device="cpu")
    fake = generate(load_generator("digits"), 500, seed=2024)
    accuracy = float((net.logits(fake.images).argmax(1) == fake.labels).float().mean())
    assert accuracy >= DIGITS_LABEL_ACCURACY - MARGIN


def test_fid_falls_from_the_untrained_to_the_final_checkpoint(shapes_cnn):
    real = shapes_cnn.features(datasets.shapes(1000, seed=31_337).images)
    steps = checkpoint_steps("shapes")

    def fid_at(step):
        fake = generate(load_generator("shapes", step), 1000, seed=5)
        return fid(real, shapes_cnn.features(fake.images))

    first, middle, last = fid_at(steps[0]), fid_at(steps[len(steps) // 2]), fid_at(steps[-1])
    assert first > middle > last
    assert last < 0.5 * first


# ------------------------------------------------------------------------------ training
@pytest.mark.slow
def test_tiny_training_run_is_deterministic_and_learns():
    data = datasets.shapes(256, seed=11)
    recipe = Recipe(steps=30, batch_size=16, checkpoints=2)
    seen = []

    def on_checkpoint(step, g, stats):
        seen.append((step, g.training, stats["d_loss"]))

    g1, d1, h1 = train("shapes", recipe, seed=1, data=data, on_checkpoint=on_checkpoint)
    g2, d2, h2 = train("shapes", recipe, seed=1, data=data, show_progress=False)
    for a, b in zip(g1.state_dict().values(), g2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    for a, b in zip(d1.state_dict().values(), d2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert h1["d_loss"] == h2["d_loss"]
    assert [s for s, _, _ in seen] == [0, 30] and not any(t for _, t, _ in seen)
    assert seen[0][2] is None and seen[1][2] is not None
    # The discriminator learns to tell the (few) real images from the untrained generator's.
    early, late = h1["d_loss"][:5], h1["d_loss"][-5:]
    assert sum(late) / 5 < sum(early) / 5
    g3, _, _ = train("shapes", recipe, seed=2, data=data, show_progress=False)
    assert not torch.equal(g3.to_image.weight, g1.to_image.weight)
    assert not torch.are_deterministic_algorithms_enabled()  # the global setting is restored


def test_training_refuses_bad_inputs():
    with pytest.raises(ValueError, match="dataset: unknown value 'faces'"):
        train("faces")
    with pytest.raises(ValueError, match="data: expected labelled 1×32×32"):
        train("digits", Recipe(steps=2), data=datasets.shapes(8))
    with pytest.raises(ValueError, match="steps: must be at least 1"):
        train("shapes", Recipe(steps=0))


def test_checkpoint_schedule_is_geometric():
    assert checkpoint_schedule(3200, 8) == [0, 50, 100, 200, 400, 800, 1600, 3200]
    assert checkpoint_schedule(10, 8) == [0, 1, 2, 5, 10]
    assert checkpoint_schedule(1, 3) == [0, 1]


# ------------------------------------------------------------------------------ lib.train
def test_weights_round_trip_half_precision_and_manifest(tmp_path):
    g = ConditionalGenerator(1, 10)
    state = half_precision(g.state_dict())
    assert all(v.dtype in (torch.float16, torch.int64) for v in state.values())
    digest = write_weights(tmp_path / "g.safetensors", state)
    loaded = read_weights(tmp_path / "g.safetensors", sha256=digest)
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)
    with pytest.raises(ValueError, match="checksum mismatch.*do this"):
        read_weights(tmp_path / "g.safetensors", sha256="0" * 64, how_to_fix="do this")
    with pytest.raises(ValueError, match="float16 range"):
        half_precision({"w": torch.tensor([1e6])})
    update_manifest(tmp_path, "b", {"x": 1})
    update_manifest(tmp_path, "a", {"y": 2})
    update_manifest(tmp_path, "b", {"x": 3})
    assert read_manifest(tmp_path) == {"a": {"y": 2}, "b": {"x": 3}}
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_seed_everything_and_progress():
    previous = torch.are_deterministic_algorithms_enabled()
    try:
        gen = seed_everything(5)
        a = torch.rand(3)
        assert torch.are_deterministic_algorithms_enabled()
        seed_everything(5, deterministic=False)
        assert torch.equal(torch.rand(3), a)
        assert torch.equal(
            torch.rand(2, generator=gen), torch.rand(2, generator=seed_everything(5))
        )
        with pytest.raises(TypeError, match="seed"):
            seed_everything(1.0)
    finally:
        torch.use_deterministic_algorithms(previous)
    bar = progress(range(3), desc="x", mininterval=0.1)
    assert bar.mininterval >= 1.0 and list(bar) == [0, 1, 2]
    assert progress(range(2), enabled=False).disable


def test_generate_on_device_matches_cpu(device):
    g = load_generator("digits")
    cpu = generate(g, 30, seed=9)
    there = generate(g, 30, seed=9, device=device)
    assert there.images.device.type == device
    torch.testing.assert_close(there.images.cpu(), cpu.images, atol=2e-4, rtol=0)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:fake. only 60 samples")  # a tiny evaluation set on purpose
def test_train_and_save_writes_loadable_checkpoints_and_removes_stale_ones(tmp_path):
    from lib.train.recipes.dcgan import train_and_save

    (tmp_path / "shapes-step999.safetensors").write_bytes(b"left over from an earlier run")
    recipe = Recipe(steps=4, batch_size=8, real_images=64, eval_images=60, checkpoints=3)
    lines = []
    entry = train_and_save("shapes", recipe, seed=3, out=tmp_path, log=lines.append)
    assert checkpoint_steps("shapes", folder=tmp_path) == [0, 2, 4]
    assert not (tmp_path / "shapes-step999.safetensors").exists()
    assert len(lines) == 3 and lines[0].startswith("shapes step 0: FID")
    g = load_generator("shapes", 2, folder=tmp_path)
    assert g.info["sha256"] == sha256_file(tmp_path / "shapes-step2.safetensors")
    assert entry["recipe"]["steps"] == 4 and entry["generator"] == g.config()
    assert {"fid", "label_accuracy", "d_loss", "train_seconds"} <= set(g.info)

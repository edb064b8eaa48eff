"""The course classifiers, the random baseline, and their training."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

import lib.datasets as datasets
import lib.features as features
from lib.features.classifiers import CLASSIFIERS_DIR, CourseCNN, load_course_classifier, random_cnn
from lib.features.fitting import ClassifierFit, accuracy, fit_classifier
from lib.train.loop import load_state, save_state
from lib.train.recipes.classifiers import SHAPES_TEST_SEED, save_classifier
from lib.train.seeding import deterministic_algorithms


@pytest.mark.parametrize(
    "name, test_set, minimum",
    [
        ("digits-cnn", lambda: datasets.digits("test"), 0.98),
        ("shapes-cnn", lambda: datasets.shapes(2000, seed=SHAPES_TEST_SEED), 0.95),
    ],
)
def test_course_classifiers_reach_their_held_out_accuracy(name, test_set, minimum):
    net = features.get(name, device="cpu")
    held_out = test_set()
    measured = accuracy(net, held_out.images, held_out.labels)
    assert measured >= minimum
    manifest = json.loads((CLASSIFIERS_DIR / "manifest.json").read_text())
    assert measured == pytest.approx(manifest[name]["test_accuracy"], abs=1e-6)
    assert net.num_features == 96 and net.num_classes == 10
    assert "sha256" in net.describe()


def test_unseen_shapes_are_classified_too():
    """A fresh seed (never used in training or in the recorded test) is classified as well."""
    net = features.get("shapes-cnn", device="cpu")
    unseen = datasets.shapes(1000, seed=123_456)
    assert accuracy(net, unseen.images, unseen.labels) >= 0.95


def test_checksum_and_missing_files_are_clear_errors(tmp_path):
    folder = tmp_path / "classifiers"
    shutil.copytree(CLASSIFIERS_DIR, folder)
    assert isinstance(load_course_classifier("digits-cnn", folder=folder), CourseCNN)
    weights = folder / "digits-cnn.safetensors"
    data = bytearray(weights.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte
    weights.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="checksum mismatch.*retrain"):
        load_course_classifier("digits-cnn", folder=folder)
    weights.unlink()
    with pytest.raises(FileNotFoundError, match="digits-cnn.safetensors.*lib.train classifiers"):
        load_course_classifier("digits-cnn", folder=folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(FileNotFoundError, match="manifest.json.*missing"):
        load_course_classifier("shapes-cnn", folder=folder)
    with pytest.raises(ValueError, match="unknown course classifier 'cifar-cnn'"):
        load_course_classifier("cifar-cnn")


def test_a_pickled_payload_with_the_right_checksum_is_still_refused(tmp_path):
    import pickle

    from lib._io import sha256_file

    folder = tmp_path / "classifiers"
    folder.mkdir()

    class Payload:
        def __reduce__(self):
            return (print, ("this must never run",))

    path = folder / "digits-cnn.safetensors"
    path.write_bytes(pickle.dumps({"w": Payload()}))
    entry = {"sha256": sha256_file(path), "dataset": "digits", "test_accuracy": 1.0}
    (folder / "manifest.json").write_text(json.dumps({"digits-cnn": entry}))
    with pytest.raises(ValueError, match="cannot be read as a safetensors"):
        load_course_classifier("digits-cnn", folder=folder)


def test_random_baseline_has_well_scaled_features():
    images = datasets.shapes(400, seed=4).images
    net = random_cnn(3, seed=0)
    f = net.features(images)
    assert f.shape == (400, 96)
    spread = f.std(0)
    assert 0.05 < float(spread.mean()) < 5.0  # neither vanishing nor exploding
    assert int((spread > 1e-3).sum()) == 96  # no dead feature
    assert int(torch.linalg.matrix_rank(torch.cov(f.T.double()))) == 96
    assert torch.equal(random_cnn(3, seed=0).features(images), f)  # deterministic
    assert not torch.equal(random_cnn(3, seed=1).features(images), f)
    assert features.get("random-cnn", device="cpu", in_channels=1).in_channels == 1


def test_networks_accept_the_other_domain_and_other_sizes():
    digits_net = features.get("digits-cnn", device="cpu")
    shapes_net = features.get("shapes-cnn", device="cpu")
    rgb = datasets.shapes(8, seed=0).images
    grey = datasets.digits("test").images[:8]
    assert digits_net.logits(rgb).shape == (8, 10)  # RGB → luma
    assert shapes_net.logits(grey).shape == (8, 10)  # grey → RGB
    big = torch.nn.functional.interpolate(grey, size=64, mode="bilinear")
    assert (
        digits_net.logits(big).argmax(1) == digits_net.logits(grey).argmax(1)
    ).float().mean() >= 0.75
    with pytest.raises(ValueError, match="channel"):
        digits_net.features(torch.rand(2, 2, 32, 32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        digits_net.features(rgb * 3)


def test_features_on_device(device):
    net = features.get("shapes-cnn", device=device)
    images = datasets.shapes(16, seed=1).images
    on_device = net.features(images)
    assert on_device.device.type == device
    cpu = features.get("shapes-cnn", device="cpu").features(images)
    torch.testing.assert_close(on_device.cpu(), cpu, atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_training_is_deterministic_and_learns():
    train = datasets.digits("train")[:512]

    def run():
        torch.manual_seed(0)
        net = CourseCNN(1, name="tiny-run")
        return fit_classifier(net, train, epochs=4, batch_size=64, lr=2e-3, augment=True, seed=3)

    a, b = run(), run()
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(pa, pb), name
    assert accuracy(a, train.images, train.labels) > 0.5  # far above the 0.1 of chance
    with pytest.raises(ValueError, match="labelled"):
        fit_classifier(CourseCNN(1), datasets.ImageSet(train.images), epochs=1)


def test_training_resumed_mid_epoch_matches_an_uninterrupted_fit(tmp_path):
    train = datasets.digits("train")[:192]
    kwargs = {"epochs": 2, "batch_size": 64, "lr": 2e-3, "augment": True, "seed": 5}

    def fresh():
        torch.manual_seed(0)
        net = CourseCNN(1, name="tiny-run")
        fit = ClassifierFit(net, train, **kwargs)
        return net, fit, {"optimizers": {"opt": fit.opt}, "schedulers": {"s": fit.schedule}}

    straight = fit_classifier(fresh()[0], train, **kwargs)
    net, fit, state = fresh()
    with deterministic_algorithms(True):  # as fit_classifier runs its steps
        for step in range(4):  # 3 steps an epoch: stop inside the second one
            fit.step(step)
    path = tmp_path / "state.pt"
    save_state(
        path,
        step=4,
        modules={"net": net},
        generators={"g": fit.gen},
        **state,
        extra={"position": fit.position()},
    )
    net, fit, state = fresh()
    done, extra = load_state(path, modules={"net": net}, generators={"g": fit.gen}, **state)
    fit.restore_position(done, extra["position"])
    with deterministic_algorithms(True):
        for step in range(done, fit.steps):
            fit.step(step)
    for (name, a), b in zip(straight.state_dict().items(), net.state_dict().values(), strict=True):
        assert torch.equal(a, b), name


def test_a_saved_classifier_loads_back_bit_for_bit(tmp_path):
    net = load_course_classifier("digits-cnn")
    report = {"dataset": "digits", "test_accuracy": 0.5, "test_images": 10}
    save_classifier(net, report, folder=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "digits-cnn.safetensors",
        "manifest.json",
    ]
    again = load_course_classifier("digits-cnn", folder=tmp_path)
    for key, value in net.state_dict().items():
        assert torch.equal(value, again.state_dict()[key]), key
    entry = json.loads((tmp_path / "manifest.json").read_text())["digits-cnn"]
    assert entry["test_accuracy"] == 0.5 and len(entry["sha256"]) == 64

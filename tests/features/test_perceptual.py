"""Tests of lib.features.perceptual: VGG19 / course-network feature taps and the perceptual loss.

No real VGG19 weights are needed: a seeded torchvision ``vgg19(weights=None)`` state dict is saved
under a torch-hub style name carrying its own sha256 prefix, and the outputs are compared with
torchvision's own ``features[:k]`` on the same input.
"""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from lib._io import sha256_file
from lib.features.classifiers import CourseCNN, load_course_classifier, random_cnn, read_manifest
from lib.features.perceptual import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    VGG19_LAYERS,
    VGG19_WEIGHTS_NAME,
    VID2VID_LAYER_WEIGHTS,
    CoursePerceptual,
    PerceptualNet,
    VGG19Features,
    VGG19Perceptual,
    find_vgg19_weights,
    load_vgg19_weights,
    perceptual_loss,
    perceptual_net,
    vgg19_weights_dir,
)
from lib.features.registry import get, register, unregister


class _NotATensor:
    """A pickled object that a weights file must never contain."""


def _save_named(obj, folder, stem="vgg19"):
    """Save ``obj`` (or raw bytes) as ``<stem>-<its sha256 prefix>.pth``, torch hub style."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "tmp.pth"
    if isinstance(obj, bytes):
        raw.write_bytes(obj)
    else:
        torch.save(obj, raw)
    final = folder / f"{stem}-{sha256_file(raw)[:8]}.pth"
    raw.rename(final)
    return final


def _normalise(x):
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    return (x - mean) / std


@pytest.fixture(scope="module")
def vgg_model():
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = torchvision.models.vgg19(weights=None)
    return model.eval()


@pytest.fixture(scope="module")
def weights_file(vgg_model, tmp_path_factory):
    path = _save_named(vgg_model.state_dict(), tmp_path_factory.mktemp("vgg19"))
    yield path
    path.unlink()  # 575 MB: not kept among pytest's last three temporary folders


@pytest.fixture(scope="module")
def vgg_net(weights_file):
    return VGG19Perceptual(list(VID2VID_LAYER_WEIGHTS) + ["conv4_4"], path=weights_file)


@pytest.fixture(scope="module")
def course_cnn() -> CourseCNN:
    """The trained shapes-cnn when its weights are committed, else the seeded random network."""
    try:
        if "shapes-cnn" in read_manifest():
            return load_course_classifier("shapes-cnn")
    except (FileNotFoundError, ValueError):
        pass
    return random_cnn(3, seed=0)


@pytest.fixture
def empty_hub(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    assert vgg19_weights_dir() == folder
    return folder


def _images(seed, shape=(2, 3, 16, 16), device="cpu"):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)).to(device)


# ------------------------------------------------------------------------------- VGG19 backend


def test_layer_names_follow_torchvision_indices(vgg_model):
    assert len(VGG19_LAYERS) == len(vgg_model.features) == 37
    assert VGG19_LAYERS["relu1_1"] == 1 and VGG19_LAYERS["conv4_4"] == 25
    assert VGG19_LAYERS["relu5_1"] == 29 and VGG19_LAYERS["pool5"] == 36
    kinds = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}
    for name, index in VGG19_LAYERS.items():
        assert isinstance(vgg_model.features[index], kinds[name[:4]]), name


CHECKED = ("relu1_1", "relu3_1", "conv4_4", "relu5_1")


def test_every_layer_equals_torchvision_features(vgg_model, weights_file, device):
    net = VGG19Perceptual(list(VGG19_LAYERS), path=weights_file).to(device)
    reference = vgg_model if device == "cpu" else copy.deepcopy(vgg_model).to(device)
    x = _images(1, (2, 3, 32, 32), device=device)  # pool5 needs 32×32
    out = net(x)
    assert list(out) == list(VGG19_LAYERS)
    assert torch.equal(net.preprocess(x), _normalise(x))
    with torch.no_grad():
        # torchvision's features[:k] for a few layers; for all of them, one pass through its own
        # modules (cloning each input, as its ReLUs work in place).
        expected = {n: reference.features[: VGG19_LAYERS[n] + 1](_normalise(x)) for n in CHECKED}
        h = _normalise(x)
        for name, module in zip(VGG19_LAYERS, reference.features, strict=True):
            h = module(h.clone())
            expected.setdefault(name, h)
    for name in VGG19_LAYERS:
        if device == "cpu":
            assert torch.equal(out[name], expected[name]), name
        else:  # cuDNN may pick different kernels for the two calls
            torch.testing.assert_close(out[name], expected[name], rtol=1e-3, atol=1e-4)


def test_network_is_cut_after_the_deepest_layer(weights_file):
    shallow = VGG19Perceptual(["relu2_1", "relu1_1"], path=weights_file)
    assert len(shallow.features) == VGG19_LAYERS["relu2_1"] + 1
    assert list(shallow(_images(0))) == ["relu2_1", "relu1_1"]  # the order asked for
    content = VGG19Perceptual(["conv4_4"], path=weights_file)
    assert len(content.features) == 26 and isinstance(content.features[-1], nn.Conv2d)
    # conv4_4 is taken BEFORE its ReLU (CartoonGAN): it has negative values.
    assert content(_images(0))["conv4_4"].min() < 0
    assert content.min_size == 8  # three pools before conv4_4
    with pytest.raises(ValueError, match="at least 8×8"):
        content(_images(0, (1, 3, 4, 4)))


def test_grey_input_is_repeated_to_rgb(vgg_net):
    grey = _images(2, (2, 1, 16, 16))
    a, b = vgg_net(grey), vgg_net(grey.expand(-1, 3, -1, -1))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_gradients_flow_to_the_input_not_the_parameters(vgg_net, device):
    net = vgg_net.to(device)
    try:
        x = _images(3, device=device).requires_grad_(True)
        total = sum(f.mean() for f in net(x).values())
        total.backward()
        assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
        assert all(not p.requires_grad and p.grad is None for p in net.parameters())
        net.train()  # e.g. through a parent module: the frozen loss net stays in eval mode
        assert not net.training and not any(m.training for m in net.modules())
    finally:
        vgg_net.to("cpu")


def test_path_and_hub_search(weights_file, empty_hub):
    empty_hub.mkdir(parents=True)
    (empty_hub / weights_file.name).symlink_to(weights_file)
    assert find_vgg19_weights() == empty_hub / weights_file.name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = perceptual_net(backend="auto", device="cpu")
    assert net.backend == "vgg19" and isinstance(net, VGG19Perceptual)
    assert weights_file.name in net.describe() and "relu5_1" in net.describe()
    # torchvision's own file name is preferred, and a bad file there is an error, not a fallback.
    (empty_hub / VGG19_WEIGHTS_NAME).write_bytes(b"not the weights")
    assert find_vgg19_weights() == empty_hub / VGG19_WEIGHTS_NAME
    with pytest.raises(ValueError, match="checksum mismatch"):
        perceptual_net(backend="auto", device="cpu")


def test_missing_file_falls_back_in_auto_mode_only(empty_hub, course_cnn, tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        perceptual_net(backend="vgg19", device="cpu")
    assert VGG19_WEIGHTS_NAME in str(info.value) and str(empty_hub) in str(info.value)
    with pytest.warns(UserWarning, match=r"VGG19 weights .* not in"):
        net = perceptual_net(backend="auto", device="cpu", course_network=course_cnn)
    assert net.backend == "course" and isinstance(net, CoursePerceptual)
    assert course_cnn.name in net.describe()
    with pytest.raises(FileNotFoundError, match="no VGG19 weights file"):
        perceptual_net(backend="auto", path=tmp_path / "nowhere.pth", device="cpu")
    # one call that works whichever backend "auto" picks
    with pytest.warns(UserWarning):
        net = perceptual_net(
            {"vgg19": ["conv4_4"], "course": ["stage3_pre"]},
            device="cpu",
            course_network=course_cnn,
        )
    assert net.layers == ("stage3_pre",)


@pytest.mark.parametrize("kind", ["checksum", "corrupt", "pickled-object", "wrong-network"])
def test_bad_weights_files_are_refused(vgg_model, weights_file, tmp_path, kind):
    if kind == "checksum":
        path = tmp_path / "vgg19-00000000.pth"
        torch.save({"features.0.weight": torch.zeros(1)}, path)
        match = "checksum mismatch"
    elif kind == "corrupt":
        path = _save_named(weights_file.read_bytes()[:100_000], tmp_path)
        match = "corrupt"
    elif kind == "pickled-object":
        path = _save_named({"features.0.weight": _NotATensor()}, tmp_path)
        match = "refused to load"
    else:
        state = {f"features.{k}": v for k, v in vgg_model.features.state_dict().items()}
        state["features.0.weight"] = state["features.0.weight"][:, :1]  # 1-channel input
        state["features.1.weight"] = torch.ones(64)  # a vgg19_bn-like key
        path = _save_named(state, tmp_path)
        match = "not torchvision's VGG19 weights"
    with pytest.raises(ValueError, match=match):
        load_vgg19_weights(path)
    with pytest.raises(ValueError, match=match):
        perceptual_net(backend="auto", path=path, device="cpu")


def test_features_only_file_is_enough_for_the_perceptual_net(vgg_model, vgg_net, tmp_path):
    state = {f"features.{k}": v for k, v in vgg_model.features.state_dict().items()}
    path = _save_named(state, tmp_path)
    net = perceptual_net(vgg_net.layers, backend="vgg19", path=path, device="cpu")
    x = _images(4)
    assert all(torch.equal(a, b) for a, b in zip(net(x).values(), vgg_net(x).values(), strict=True))
    with pytest.raises(ValueError, match="missing key"):
        VGG19Features(path=path)


# ------------------------------------------------------------------------------ course backend


def test_course_backend_exposes_the_stages(course_cnn, device):
    net = perceptual_net(
        backend="course",
        course_network=course_cnn,
        device=device,
        layers=list(CoursePerceptual.available_layers),
    )
    assert net.backend == "course" and isinstance(net, PerceptualNet)
    assert course_cnn.name in net.describe()
    x = _images(5, (3, 3, 40, 40), device=device).requires_grad_(True)
    out = net(x)
    sizes = {name: tuple(f.shape[1:]) for name, f in out.items()}
    assert sizes["stage1"] == (24, 32, 32) and sizes["stage4"] == (96, 4, 4)
    for k in range(1, 5):  # before / after the ReLU
        assert out[f"stage{k}_pre"].min() < 0
        assert torch.equal(out[f"stage{k}"], F.relu(out[f"stage{k}_pre"]))
    # The same stages as the classifier's own forward pass.
    reference = course_cnn.to(device).extract(x.detach(), ("stage3", "features"))
    torch.testing.assert_close(out["stage3"].mean((2, 3)), reference["stage3"])
    torch.testing.assert_close(out["stage4"].mean((2, 3)), reference["features"])
    course_cnn.to("cpu")
    sum(f.mean() for f in out.values()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(not p.requires_grad and p.grad is None for p in net.parameters())
    assert all(p.requires_grad for p in course_cnn.parameters())  # the caller's net untouched
    grey = _images(6, (2, 1, 32, 32), device=device)
    assert net(grey)["stage2"].shape == (2, 48, 16, 16)


def test_layer_names_are_validated(course_cnn, vgg_net):
    with pytest.raises(ValueError, match=r"unknown layer.*'relu9_9'.*available: .*stage1"):
        perceptual_net(["relu9_9"], backend="course", course_network=course_cnn, device="cpu")
    with pytest.raises(ValueError, match=r"'stage1'.*available: relu|'stage1'.*conv1_1"):
        VGG19Perceptual(["stage1"], path="unused")  # checked before any file is touched
    with pytest.raises(ValueError, match="at least one layer"):
        CoursePerceptual([], network=course_cnn)
    with pytest.raises(ValueError, match="keyed by backend"):
        perceptual_net({"vgg": ["relu1_1"]}, backend="course", course_network=course_cnn)
    with pytest.raises(ValueError, match="not among the layers"):
        vgg_net(_images(0), layers=["relu5_4"])
    with pytest.raises(ValueError, match="backend"):
        perceptual_net(backend="alexnet")
    with pytest.raises(TypeError, match="network"):
        CoursePerceptual(network=nn.Conv2d(3, 3, 1))


# ------------------------------------------------------------------------------ the loss


@pytest.mark.parametrize("backend", ["vgg19", "course"])
def test_loss_is_zero_for_identical_inputs_positive_and_symmetric(
    vgg_net, course_cnn, device, backend
):
    if backend == "vgg19":
        net = vgg_net.to(device)
    else:
        net = perceptual_net(backend="course", course_network=course_cnn, device=device)
    try:
        x, y = _images(7, device=device), _images(8, device=device)
        for distance in ("l1", "l2"):
            same = perceptual_loss(net, x, x.clone(), distance=distance)
            assert same.ndim == 0 and same.item() == 0.0
            xy = perceptual_loss(net, x, y, distance=distance)
            yx = perceptual_loss(net, y, x, distance=distance)
            assert xy.item() > 0 and xy.device.type == device
            torch.testing.assert_close(xy, yx, rtol=1e-5, atol=0)
    finally:
        vgg_net.to("cpu")


def test_layer_weights_are_applied(vgg_net):
    x, y = _images(9), _images(10)
    fx, fy = vgg_net(x), vgg_net(y)
    single = {
        name: perceptual_loss(vgg_net, x, y, layer_weights={name: 1.0}) for name in vgg_net.layers
    }
    for name in vgg_net.layers:
        torch.testing.assert_close(single[name], (fx[name] - fy[name]).abs().mean())
    l2 = perceptual_loss(vgg_net, x, y, {"relu3_1": 2.0}, distance="l2")
    torch.testing.assert_close(l2, 2 * (fx["relu3_1"] - fy["relu3_1"]).square().mean())
    # default: vid2vid's 1/32 … 1 on relu1_1 … relu5_1, and 1 for conv4_4
    expected = sum(VID2VID_LAYER_WEIGHTS.get(n, 1.0) * single[n] for n in vgg_net.layers)
    torch.testing.assert_close(perceptual_loss(vgg_net, x, y), expected)
    as_list = [VID2VID_LAYER_WEIGHTS.get(n, 1.0) for n in vgg_net.layers]
    torch.testing.assert_close(perceptual_loss(vgg_net, x, y, as_list), expected)
    assert perceptual_loss(vgg_net, x, y, {"relu1_1": 0.0}).item() == 0.0
    # CartoonGAN's content loss: 10 · mean |conv4_4(G(p)) − conv4_4(p)|
    torch.testing.assert_close(
        10 * perceptual_loss(vgg_net, x, y, {"conv4_4": 1.0}),
        10 * (fx["conv4_4"] - fy["conv4_4"]).abs().mean(),
    )


def test_bad_loss_inputs_get_clear_errors(vgg_net):
    x = _images(11)
    with pytest.raises(ValueError, match="same shape"):
        perceptual_loss(vgg_net, x, x[:1])
    with pytest.raises(ValueError, match=r"\[0, 1\].*\(x \+ 1\) / 2"):
        perceptual_loss(vgg_net, x * 2 - 1, x)
    with pytest.raises(ValueError, match="NaN"):
        perceptual_loss(vgg_net, x, torch.full_like(x, float("nan")))
    with pytest.raises(TypeError, match="uint8"):
        perceptual_loss(vgg_net, (x * 255).to(torch.uint8), (x * 255).to(torch.uint8))
    with pytest.raises(ValueError, match="channel"):
        perceptual_loss(vgg_net, x[:, :2], x[:, :2])
    with pytest.raises(ValueError, match="unknown layer"):
        perceptual_loss(vgg_net, x, x, {"relu9_1": 1.0})
    with pytest.raises(ValueError, match="not among the layers"):
        perceptual_loss(vgg_net, x, x, {"relu5_4": 1.0})
    with pytest.raises(ValueError, match="finite and ≥ 0"):
        perceptual_loss(vgg_net, x, x, {"relu1_1": -1.0})
    with pytest.raises(ValueError, match="one per layer"):
        perceptual_loss(vgg_net, x, x, [1.0, 2.0])
    with pytest.raises(ValueError, match="distance"):
        perceptual_loss(vgg_net, x, x, distance="l3")
    with pytest.raises(TypeError, match="PerceptualNet"):
        perceptual_loss(nn.Identity(), x, x)


# ------------------------------------------------------------------- VGG19 as a FeatureExtractor


def test_vgg19_feature_extractor_matches_torchvision(vgg_model, weights_file):
    register("vgg19-perceptual-test", VGG19Features)
    try:
        net = get("vgg19-perceptual-test", device="cpu", path=weights_file)
    finally:
        unregister("vgg19-perceptual-test")
    assert net.num_features == 4096 and net.num_classes == 1000
    x = _images(12, (1, 3, 48, 48))
    out = net.extract(x)
    assert {k: v.shape[1] for k, v in out.items()} == {
        "relu1_1": 64,
        "relu2_1": 128,
        "relu3_1": 256,
        "relu4_1": 512,
        "relu5_1": 512,
        "fc7": 4096,
        "logits": 1000,
    }
    resized = F.interpolate(x, size=(224, 224), mode="bilinear", antialias=True)
    with torch.no_grad():
        relu3_1 = vgg_model.features[:12](_normalise(resized))
        conv = vgg_model.avgpool(vgg_model.features[12:](relu3_1.clone()))
        fc7 = vgg_model.classifier[:5](torch.flatten(conv, 1))
        logits = vgg_model.classifier[5:](fc7)
        relu3_1 = relu3_1.mean((2, 3))
    torch.testing.assert_close(out["logits"], logits)
    torch.testing.assert_close(out["fc7"], fc7)
    torch.testing.assert_close(out["relu3_1"], relu3_1)
    assert "vgg19" in net.describe() and weights_file.name in net.describe()
    net.train()  # the dropout of the classifier never switches on
    torch.testing.assert_close(net(x), out["fc7"])


def test_tiles_compare_crops_at_their_own_resolution(course_cnn):
    """``tile=t`` is the loss over the t×t crops as one batch (the course network resizes a
    whole 64² frame to 32², the tiles it sees at full resolution)."""
    net = perceptual_net(backend="course", device="cpu", course_network=course_cnn)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(2, 3, 64, 64, generator=gen), torch.rand(2, 3, 64, 64, generator=gen)

    def crops(z):
        return torch.cat([z[:, :, i : i + 32, j : j + 32] for i in (0, 32) for j in (0, 32)])

    tiled = perceptual_loss(net, x, y, tile=32)
    # the crops' order within the batch does not change a mean
    assert torch.allclose(tiled, perceptual_loss(net, crops(x), crops(y)), atol=1e-6)
    assert not torch.allclose(tiled, perceptual_loss(net, x, y))
    with pytest.raises(ValueError, match="multiples of tile"):
        perceptual_loss(net, x, y, tile=24)

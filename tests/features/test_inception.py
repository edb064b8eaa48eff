"""The FID Inception port against torch-fidelity and pytorch-fid, offline.

No real weights exist on a test machine, so every comparison uses one seeded random state dict
(BatchNorm running statistics randomised too, so every term of the graph matters), saved in
torch-fidelity's layout and loaded by all three implementations from the same file.
"""

from __future__ import annotations

import hashlib
import pickle
import shutil

import pytest
import torch
import torch.nn.functional as F

from lib.features import InceptionFID
from lib.features.inception import (
    FIDELITY_WEIGHTS_NAME,
    PYTORCH_FID_WEIGHTS_NAME,
    TAP_DIMS,
    _full_fp32_on_cuda,
    convert_pytorch_fid_state_dict,
    find_weights,
    load_weights,
    random_state_dict,
    tf1_bilinear_resize,
    weights_dir,
)

TAPS = tuple(TAP_DIMS)
TOLERANCE = 1e-4


def rel_diff(ours: torch.Tensor, ref: torch.Tensor) -> float:
    """max |ours − ref| / max |ref|: relative to the scale of the reference output."""
    ours, ref = ours.detach().double().cpu(), ref.detach().double().cpu()
    return float((ours - ref).abs().max() / ref.abs().max())


def _images(n: int, size: int, seed: int) -> torch.Tensor:
    """Structured uint8 RGB images: smooth colour fields plus pixel noise."""
    g = torch.Generator().manual_seed(seed)
    smooth = F.interpolate(torch.rand(n, 3, 6, 6, generator=g), size=(size, size), mode="bicubic")
    noisy = smooth * 200 + 30 + torch.randn(n, 3, size, size, generator=g) * 20
    return noisy.round().clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def state_dict():
    return random_state_dict(seed=1234)


@pytest.fixture(scope="module")
def weights_file(state_dict, tmp_path_factory):
    """The random state dict in torch-fidelity's layout, named ``...-<sha256 prefix>.pth``."""
    folder = tmp_path_factory.mktemp("weights")
    plain = folder / "random-inception.pth"
    torch.save(state_dict, plain)
    digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    named = folder / f"random-inception-{digest[:8]}.pth"
    plain.rename(named)
    return named


@pytest.fixture(scope="module")
def ours(weights_file):
    return InceptionFID(weights_file)


@pytest.fixture(scope="module")
def small():
    """Random weights, seed 5, stopping at the cheap '192' tap."""
    return InceptionFID(weights="random", seed=5, tap="192")


@pytest.fixture(scope="module")
def images_u8():
    return _images(4, 64, seed=7)


@pytest.fixture(scope="module")
def our_taps(ours, images_u8):
    return ours.extract(images_u8, TAPS)


def test_random_weights_give_non_degenerate_activations(our_taps):
    for tap, value in our_taps.items():
        assert value.shape == (4, TAP_DIMS[tap])
        assert torch.isfinite(value).all()
        assert float(value.std()) > 0.1, tap
    # Post-ReLU means are mostly positive, and the images are told apart.
    assert float((our_taps["2048"] > 0).float().mean()) > 0.5
    assert float((our_taps["2048"][0] - our_taps["2048"][1]).abs().max()) > 1e-2


def test_matches_torch_fidelity(weights_file, ours, images_u8, our_taps, record_property):
    fe = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    ref = fe.FeatureExtractorInceptionV3(
        name="inception-v3-compat",
        features_list=list(TAPS),
        feature_extractor_weights_path=str(weights_file),
    )
    with torch.no_grad():
        ref_taps = dict(zip(TAPS, ref(images_u8), strict=True))
    diffs = {tap: rel_diff(our_taps[tap], ref_taps[tap]) for tap in TAPS}
    record_property("max_rel_diff_vs_torch_fidelity", diffs)
    print("max relative difference vs torch-fidelity:", diffs)
    assert all(d <= TOLERANCE for d in diffs.values()), diffs

    # Float input in [0, 1] (= uint8 / 255) goes through the same pipeline.
    from_float = ours.features(images_u8[:2].float() / 255)
    diff_float = rel_diff(from_float, ref_taps["2048"][:2])
    print("max relative difference vs torch-fidelity, float input:", diff_float)
    assert diff_float <= TOLERANCE


@pytest.mark.parametrize(
    ("in_size", "dtype"),
    [
        ((64, 64), torch.float32),
        ((17, 40), torch.float32),
        ((400, 320), torch.float32),
        ((33, 299), torch.float64),
    ],
)
def test_resize_is_bit_exact_with_torch_fidelity(in_size, dtype):
    ic = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
    x = torch.rand(2, 3, *in_size, generator=torch.Generator().manual_seed(3), dtype=dtype) * 255
    ref = ic.interpolate_bilinear_2d_like_tensorflow1x(x, size=(299, 299), align_corners=False)
    assert torch.equal(tf1_bilinear_resize(x, (299, 299)), ref)


def test_resize_known_values():
    # 2 → 4 pixels: sources at 0, 0.5, 1, 1.5 (no half-pixel offset); the last one clamps.
    x = torch.tensor([[[[0.0, 10.0]]]])
    out = tf1_bilinear_resize(x, (1, 4))
    assert out.flatten().tolist() == [0.0, 5.0, 10.0, 10.0]
    # Same size is the identity.
    y = torch.rand(1, 3, 299, 299)
    assert tf1_bilinear_resize(y, (299, 299)) is y


@pytest.fixture(scope="module")
def pytorch_fid(state_dict):
    """pytorch-fid's own builders, with the weight download replaced by our state dict:
    its ``InceptionV3`` wrapper (all four blocks) and the ``fid_inception_v3`` network."""
    pfi = pytest.importorskip("pytorch_fid.inception")
    urls = []

    def offline_load(url, *args, **kwargs):
        urls.append(url)
        return {k: v.clone() for k, v in state_dict.items()}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pfi, "load_state_dict_from_url", offline_load)
        wrapper = pfi.InceptionV3(output_blocks=(0, 1, 2, 3)).eval()
        network = pfi.fid_inception_v3().eval().requires_grad_(False)
    assert urls == [pfi.FID_WEIGHTS_URL] * 2  # the download was asked for, and skipped
    return wrapper, network


def test_matches_pytorch_fid_with_matched_preprocessing(
    pytorch_fid, ours, images_u8, our_taps, record_property
):
    """pytorch-fid's network fed our preprocessed input (its own resize/normalise switched off)."""
    wrapper, network = pytorch_fid
    x = ours.preprocess(images_u8)
    wrapper.resize_input = wrapper.normalize_input = False
    try:
        with torch.no_grad():
            maps = wrapper(x)
            logits = network(x)
    finally:
        wrapper.resize_input = wrapper.normalize_input = True
    ref_taps = {
        "64": maps[0].mean((2, 3)),
        "192": maps[1].mean((2, 3)),
        "768": maps[2].mean((2, 3)),
        "2048": maps[3].flatten(1),
        "logits": logits,
        "logits_unbiased": logits - network.fc.bias,
    }
    diffs = {tap: rel_diff(our_taps[tap], ref_taps[tap]) for tap in TAPS}
    record_property("max_rel_diff_vs_pytorch_fid", diffs)
    print("max relative difference vs pytorch-fid (matched preprocessing):", diffs)
    assert all(d <= TOLERANCE for d in diffs.values()), diffs


def test_matches_pytorch_fid_end_to_end_at_299(pytorch_fid, ours, record_property):
    """At 299×299 both resizes are the identity; pytorch-fid's 2x − 1 on x·255/256 equals
    our (255x − 128) / 128, so its full pipeline must agree with ours."""
    wrapper, _ = pytorch_fid
    x = _images(2, 299, seed=11).float() / 255
    with torch.no_grad():
        ref = wrapper(x * 255 / 256)[-1].flatten(1)
    diff = rel_diff(ours.features(x), ref)
    record_property("max_rel_diff_vs_pytorch_fid_299", diff)
    print("max relative difference vs pytorch-fid (299×299 end to end):", diff)
    assert diff <= TOLERANCE


def test_pytorch_fid_layouts_convert(state_dict, pytorch_fid):
    wrapper, network = pytorch_fid
    # The layout of pt_inception-2015-12-05-6726825d.pth (its fid_inception_v3 network).
    converted = convert_pytorch_fid_state_dict(network.state_dict())
    assert converted.keys() == state_dict.keys()
    assert all(torch.equal(converted[k], state_dict[k]) for k in state_dict)
    # Older files without BatchNorm counters, saved from DataParallel.
    old = {"module." + k: v for k, v in state_dict.items() if not k.endswith("num_batches_tracked")}
    assert convert_pytorch_fid_state_dict(old).keys() == state_dict.keys()
    # The InceptionV3 wrapper's own state dict: everything but the classifier.
    from_wrapper = convert_pytorch_fid_state_dict(wrapper.state_dict())
    assert set(from_wrapper) == {k for k in state_dict if not k.startswith("fc.")}


def test_loads_pytorch_fid_file_name_from_hub_dir(state_dict, tmp_path, monkeypatch):
    """A pt_inception file without counters loads; its name's hash must match its content."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = weights_dir()
    assert folder == tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    torch.save({k: v for k, v in state_dict.items() if "num_batches" not in k}, tmp_path / "w")
    digest = hashlib.sha256((tmp_path / "w").read_bytes()).hexdigest()
    (tmp_path / "w").rename(folder / f"pt_inception-{digest[:8]}.pth")
    loaded, sha = load_weights(folder / f"pt_inception-{digest[:8]}.pth")
    assert sha == digest and loaded.keys() == state_dict.keys()


# -- weights files: search, checksum, safety -------------------------------------------------


def test_missing_weights_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        InceptionFID()
    message = str(info.value)
    assert FIDELITY_WEIGHTS_NAME in message and PYTORCH_FID_WEIGHTS_NAME in message
    assert str(tmp_path / "hub" / "checkpoints") in message
    assert "https://" in message and "weights='random'" in message

    with pytest.raises(FileNotFoundError, match="nowhere.pth"):
        InceptionFID(tmp_path / "nowhere.pth")


@pytest.mark.parametrize("file_name", [FIDELITY_WEIGHTS_NAME, PYTORCH_FID_WEIGHTS_NAME])
def test_hub_dir_is_searched_and_checksum_checked(weights_file, tmp_path, monkeypatch, file_name):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    # Random weights under an official name: the sha256 cannot start with 6726825d.
    shutil.copy(weights_file, folder / file_name)
    assert find_weights() == folder / file_name
    with pytest.raises(ValueError, match="checksum mismatch") as info:
        InceptionFID()
    assert str(folder / file_name) in str(info.value)


def test_partial_download_is_refused(weights_file, tmp_path):
    partial = tmp_path / weights_file.name  # the name still carries the full file's hash
    partial.write_bytes(weights_file.read_bytes()[: 1 << 20])
    with pytest.raises(ValueError, match="checksum mismatch"):
        InceptionFID(partial)


def test_corrupt_file_without_hash_is_refused(weights_file, tmp_path):
    corrupt = tmp_path / "my-weights.pth"
    corrupt.write_bytes(weights_file.read_bytes()[: 1 << 20])
    with pytest.raises(ValueError, match="cannot be read") as info:
        InceptionFID(corrupt)
    assert str(corrupt) in str(info.value)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a weights file at all")
    with pytest.raises(ValueError, match="garbage.pth"):
        InceptionFID(garbage)


UNPICKLED = []


def _record(tag):
    UNPICKLED.append(tag)
    return tag


class _Payload:
    def __reduce__(self):
        return (_record, ("code ran",))


def test_pickled_objects_are_never_unpickled(tmp_path):
    evil = tmp_path / "evil.pth"
    torch.save({"fc.weight": torch.zeros(1), "payload": _Payload()}, evil)
    with pytest.raises(ValueError, match="refused"):
        InceptionFID(evil)
    assert UNPICKLED == []
    # The same with a plain pickle file.
    with open(tmp_path / "evil2.pth", "wb") as handle:
        pickle.dump(_Payload(), handle, protocol=2)
    with pytest.raises(ValueError):
        InceptionFID(tmp_path / "evil2.pth")
    assert UNPICKLED == []


def test_wrong_state_dict_is_refused(tmp_path):
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="not the FID Inception"):
        InceptionFID(tmp_path / "other.pth")
    torch.save([torch.zeros(3)], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="state dict"):
        InceptionFID(tmp_path / "list.pth")


def test_arguments_are_checked(weights_file):
    with pytest.raises(ValueError, match="weights"):
        InceptionFID(weights="imagenet")
    with pytest.raises(ValueError, match="random"):
        InceptionFID(weights_file, weights="random")
    with pytest.raises(ValueError, match="tap"):
        InceptionFID(weights="random", tap="pool3")


# -- behaviour of the extractor --------------------------------------------------------------


def test_random_weights_are_seeded_and_documented(small):
    again = random_state_dict(seed=5)
    assert all(torch.equal(v, again[k]) for k, v in small.state_dict().items())
    assert not torch.equal(random_state_dict(seed=6)["fc.weight"], again["fc.weight"])
    assert small.num_features == 192 and not small.training
    assert not any(p.requires_grad for p in small.parameters())
    text = small.describe()
    assert "RANDOM" in text and "299" in text and "128" in text and "TensorFlow 1.x" in text


def test_batch_size_and_grey_images(small, images_u8):
    """Batch-size independence and grey → RGB, on the early-exit '192' tap."""
    two = images_u8[:2]
    one_by_one = small.features(two, batch_size=1)
    together = small.features(two, batch_size=2)
    assert one_by_one.shape == (2, 192)
    assert rel_diff(one_by_one, together) <= 1e-5
    grey = images_u8[:2, :1]
    assert torch.allclose(small.features(grey), small.features(grey.expand(-1, 3, -1, -1)))


def test_preprocess_float_and_uint8_agree(ours, images_u8):
    a = ours.preprocess(images_u8)
    b = ours.preprocess(images_u8.float() / 255)
    assert a.shape == (4, 3, 299, 299)
    assert float(a.min()) >= -1.0 and float(a.max()) <= 127 / 128
    assert float((a - b).abs().max()) < 1e-5


def test_forward_is_differentiable_with_respect_to_images(small):
    x = (_images(1, 32, seed=2).float() / 255).requires_grad_(True)
    small(x).sum().backward()  # forward = default tap, with gradients
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_torchmetrics_accepts_it_as_feature(small):
    fid_module = pytest.importorskip("torchmetrics.image.fid")
    metric = fid_module.FrechetInceptionDistance(feature=small)
    metric.update(_images(2, 16, seed=1), real=True)
    metric.update(_images(2, 16, seed=2), real=False)
    assert torch.isfinite(metric.compute())


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu(images_u8):
    conv_before = torch.backends.cudnn.conv.fp32_precision
    matmul_before = torch.backends.cuda.matmul.fp32_precision
    gpu = InceptionFID(weights="random", seed=0).to("cuda")
    cpu_ref = InceptionFID(weights="random", seed=0)
    out = gpu.extract(images_u8, ("2048", "logits_unbiased"))  # CPU input is moved there
    assert out["2048"].device.type == "cuda"
    ref = cpu_ref.extract(images_u8, ("2048", "logits_unbiased"))
    for tap in ("2048", "logits_unbiased"):
        diff = rel_diff(out[tap], ref[tap])
        print(f"max relative difference CUDA vs CPU, {tap}: {diff:.2e}")
        assert diff <= TOLERANCE
    # TF32 switched off only while the network ran.
    assert torch.backends.cudnn.conv.fp32_precision == conv_before
    assert torch.backends.cuda.matmul.fp32_precision == matmul_before


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_torch_fidelity_on_cuda(weights_file, images_u8):
    fe = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
    ref = fe.FeatureExtractorInceptionV3(
        name="inception-v3-compat",
        features_list=["2048"],
        feature_extractor_weights_path=str(weights_file),
    ).to("cuda")
    with torch.no_grad(), _full_fp32_on_cuda(torch.device("cuda")):
        (expected,) = ref(images_u8.cuda())
    ours = InceptionFID(weights_file).to("cuda")
    diff = rel_diff(ours.features(images_u8.cuda()), expected)
    print(f"max relative difference vs torch-fidelity on CUDA: {diff:.2e}")
    assert diff <= TOLERANCE


def test_the_fused_onednn_path_has_a_tested_fallback(ours, images_u8, our_taps, monkeypatch):
    # The fused conv + bias + ReLU is a private oneDNN op (torch.ops.mkldnn), used only when it
    # exists; without it the graph runs plain conv2d + relu and must give the same features.
    from lib.features.inception import graph

    monkeypatch.setattr(graph, "_fused_conv_available", lambda: False)
    fallback = ours.extract(images_u8, TAPS)
    for tap in TAPS:
        torch.testing.assert_close(fallback[tap], our_taps[tap], rtol=1e-5, atol=1e-6)

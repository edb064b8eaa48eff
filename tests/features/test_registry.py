"""The feature-network registry and the FeatureExtractor interface (input checks, batching)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lib import features
from lib.features import FeatureExtractor, InceptionFID


class TinyNet(FeatureExtractor):
    """A 16-d feature network on 8×8 grey images with a 10-class head."""

    name = "tiny-test-net"
    num_features = 16
    num_classes = 10
    taps = ("features", "logits")
    default_tap = "features"
    logits_tap = "logits"
    input_channels = (1,)
    input_range = "float in [0, 1]"
    resize = "none (8×8 images)"
    normalisation = "none"

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.body = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU())
            self.head = nn.Linear(16, 10)
        self.batches_seen: list[int] = []

    def _run(self, x, taps):
        self.batches_seen.append(x.shape[0])
        f = self.body(x)
        return {"features": f, "logits": self.head(f)}


class Headless(TinyNet):
    name = "tiny-headless"
    num_classes = None
    taps = ("features",)
    logits_tap = None


@pytest.fixture()
def tiny():
    features.register(TinyNet.name, TinyNet)
    yield features.get(TinyNet.name, device="cpu", seed=1)
    features.unregister(TinyNet.name)


@pytest.fixture(scope="module")
def inception():
    return features.get("inception-fid", device="cpu", weights="random", seed=0)


def test_inception_is_registered():
    assert "inception-fid" in features.available()
    assert features.available() == tuple(sorted(features.available()))


def test_get_inception_random(inception):
    assert isinstance(inception, InceptionFID)
    assert inception.num_features == 2048 and inception.name == "inception-fid"
    assert inception.device == torch.device("cpu") and not inception.training
    images = torch.rand(2, 3, 24, 32, generator=torch.Generator().manual_seed(0))
    out = inception.features(images)
    assert out.shape == (2, 2048) and out.dtype == torch.float32
    assert torch.isfinite(out).all() and not out.requires_grad


def test_get_passes_kwargs_to_builder():
    net = features.get("inception-fid", device="cpu", weights="random", tap="64")
    assert net.num_features == 64 and net.default_tap == "64"


def test_unknown_name_lists_known_names():
    with pytest.raises(ValueError, match="inception-fid") as info:
        features.get("inceptoin-fid")
    assert "inceptoin-fid" in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_missing_cuda_is_a_clear_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        features.get("inception-fid", device="cuda", weights="random")


def test_register_get_unregister(tiny):
    assert TinyNet.name in features.available()
    x = torch.rand(5, 1, 8, 8)
    assert tiny.features(x).shape == (5, 16)
    assert tiny.logits(x).shape == (5, 10)
    both = tiny.extract(x, ["features", "logits"], batch_size=2)
    assert tiny.batches_seen[-3:] == [2, 2, 1]
    assert torch.allclose(both["features"], tiny.features(x, batch_size=5), atol=1e-6)
    assert "tiny-test-net" in tiny.describe() and "none (8×8 images)" in tiny.describe()


def test_register_refuses_duplicates_and_bad_builders(tiny):
    with pytest.raises(ValueError, match="already registered"):
        features.register(TinyNet.name, TinyNet)
    features.register(TinyNet.name, lambda **kw: TinyNet(seed=2), overwrite=True)
    with pytest.raises(TypeError, match="callable"):
        features.register("not-callable", 42)
    with pytest.raises(ValueError, match="non-empty"):
        features.register("", TinyNet)
    features.register("returns-junk", lambda: "junk")
    try:
        with pytest.raises(TypeError, match="not a FeatureExtractor"):
            features.get("returns-junk", device="cpu")
    finally:
        features.unregister("returns-junk")
    with pytest.raises(ValueError, match="unknown"):
        features.unregister("returns-junk")


def test_logits_without_head_is_a_clear_error():
    with pytest.raises(NotImplementedError, match="no classifier head"):
        Headless().logits(torch.rand(2, 1, 8, 8))


def test_batching_moves_inputs_and_accepts_numpy(tiny):
    x = np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32)
    out = tiny.features(x)
    assert out.shape == (3, 16) and out.device == tiny.device


@pytest.mark.parametrize(
    ("bad", "error", "match"),
    [
        (torch.rand(3, 32, 32), ValueError, "4-D"),
        (torch.rand(2, 4, 32, 32), ValueError, "channel"),
        (torch.rand(2, 2, 32, 32), ValueError, "channel"),
        (torch.rand(2, 3, 32, 32) * 255, ValueError, r"\[0, 1\]"),
        (torch.rand(2, 3, 32, 32) * 2 - 1, ValueError, r"\(x \+ 1\) / 2"),
        (torch.full((2, 3, 32, 32), float("nan")), ValueError, "NaN"),
        (torch.zeros(2, 3, 32, 32, dtype=torch.int64), TypeError, "dtype"),
        (torch.zeros(0, 3, 32, 32), ValueError, "empty"),
        ([[0.5]], TypeError, "numpy"),
    ],
)
def test_bad_images_give_clear_errors(inception, bad, error, match):
    with pytest.raises(error, match=match):
        inception.features(bad)


def test_uint8_only_where_documented(tiny, inception):
    with pytest.raises(TypeError, match="uint8"):
        tiny.features(torch.zeros(2, 1, 8, 8, dtype=torch.uint8))
    assert inception.accepts_uint8 and "uint8" in inception.describe()


def test_bad_arguments(tiny):
    x = torch.rand(2, 1, 8, 8)
    with pytest.raises(ValueError, match="tap"):
        tiny.features(x, tap="pool3")
    with pytest.raises(ValueError, match="batch_size"):
        tiny.features(x, batch_size=0)
    with pytest.raises(ValueError, match="at least one"):
        tiny.extract(x, [])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_auto_device_is_cuda_and_inputs_move_there():
    net = features.get("inception-fid", weights="random", tap="192")
    assert net.device.type == "cuda"
    out = net.features(torch.rand(2, 3, 16, 16))  # CPU input
    assert out.device.type == "cuda" and out.shape == (2, 192)

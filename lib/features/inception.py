"""The FID Inception network: a port of TensorFlow's 2015-12-05 Inception graph.

FID, KID, precision/recall and the Inception Score are defined through ONE particular network,
the Inception graph TensorFlow published on 2015-12-05 (``inception-2015-12-05.tgz``), and not
through torchvision's ``inception_v3``. This port differs from torchvision's network exactly where
the TF graph does (see REFERENCE §A):

- its own weights, a **1008**-way classifier, no auxiliary classifier;
- the pooling branches of Mixed_5b–5d, Mixed_6b–6e and Mixed_7b **average** with
  ``count_include_pad=False`` (TF does not count padded zeros);
- the pooling branch of Mixed_7c is a 3×3 **max** pool;
- the input is normalised as ``(x − 128) / 128`` on [0, 255] values.

Preprocessing (one fixed pipeline, :meth:`InceptionFID.preprocess`):

1. uint8 images are taken as they are (0..255); float images in [0, 1] are multiplied by 255
   (not rounded, so they keep their sub-level precision); grey images are repeated to RGB;
2. resized to 299×299 with **TensorFlow 1.x bilinear resizing** (``tf.image.resize_bilinear``
   with ``align_corners=False``, i.e. source coordinate = destination index × in/out, no
   half-pixel offset, no antialiasing) — the resize torch-fidelity reproduces and the original
   TF FID/IS code applied. It is NOT ``F.interpolate(mode="bilinear")`` (half-pixel centres),
   which pytorch-fid uses, nor clean-fid's PIL bicubic. Images already 299×299 are not resampled;
3. ``(x − 128) / 128``.

Feature taps: ``"64"``, ``"192"``, ``"768"`` (spatial means of intermediate maps), ``"2048"``
(pool3, used by FID/KID/precision-recall), ``"logits_unbiased"`` (pool3 · Wᵀ without the bias,
used by the Inception Score as in the original TF code) and ``"logits"`` (with the bias).

Weights are read only from a local file and never downloaded. Module names follow
torch-fidelity's layout, so ``weights-inception-2015-12-05-6726825d.pth`` loads directly;
pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` uses torchvision's names, which are the
same, and :func:`convert_pytorch_fid_state_dict` also maps the state dict of pytorch-fid's
``InceptionV3`` wrapper (``blocks.N.M...``) into this layout.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import check_choice
from lib._io import check_name_hash, hub_checkpoints_dir, load_state_dict, state_dict_problems
from lib.features.base import FeatureExtractor

__all__ = [
    "InceptionFID",
    "FIDELITY_WEIGHTS_NAME",
    "PYTORCH_FID_WEIGHTS_NAME",
    "WEIGHTS_SHA256_PREFIX",
    "weights_dir",
    "find_weights",
    "load_weights",
    "convert_pytorch_fid_state_dict",
    "random_state_dict",
    "tf1_bilinear_resize",
]

FIDELITY_WEIGHTS_NAME = "weights-inception-2015-12-05-6726825d.pth"
PYTORCH_FID_WEIGHTS_NAME = "pt_inception-2015-12-05-6726825d.pth"
WEIGHTS_SHA256_PREFIX = "6726825d"
# Where the files can be fetched by hand; lib itself never downloads anything.
_WEIGHTS_URLS = {
    FIDELITY_WEIGHTS_NAME: "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/"
    + FIDELITY_WEIGHTS_NAME,
    PYTORCH_FID_WEIGHTS_NAME: "https://github.com/mseitzer/pytorch-fid/releases/download/"
    "fid_weights/" + PYTORCH_FID_WEIGHTS_NAME,
}
# torch.hub's convention: "name-<hex>.ext", the hex being a prefix of the file's sha256.

INPUT_SIZE = 299
TAP_DIMS = {"64": 64, "192": 192, "768": 768, "2048": 2048, "logits_unbiased": 1008, "logits": 1008}
# How deep into the network each tap sits: the forward pass stops after the deepest one asked for.
_TAP_DEPTH = {"64": 0, "192": 1, "768": 2, "2048": 3, "logits_unbiased": 4, "logits": 4}


# ---------------------------------------------------------------------------------------------
# Resizing


def tf1_bilinear_resize(x: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize exactly as TensorFlow 1.x ``resize_bilinear(align_corners=False)``.

    For output index i the source coordinate is ``s = i · (in / out)`` (the scale rounded to
    float32, as TF computes it), with neighbours ``floor(s)`` and ``min(floor(s) + 1, in − 1)``
    and weight ``s − floor(s)``; rows are interpolated after columns. There is no half-pixel
    offset and no antialiasing, so downscaling aliases — which is what the FID reference code
    did. ``x``: float N×C×H×W; differentiable with respect to ``x``.
    """
    out_h, out_w = size
    in_h, in_w = x.shape[-2:]
    if (in_h, in_w) == (out_h, out_w):
        return x

    def axis(n_in: int, n_out: int):
        scale = torch.tensor(n_in / n_out, dtype=torch.float32)
        pos = torch.arange(n_out, dtype=x.dtype, device=x.device) * scale
        lo = pos.long()  # positions are >= 0, so truncation is floor
        hi = (lo + 1).clamp_max(n_in - 1)
        return lo, hi, pos - lo.to(pos.dtype)

    y_lo, y_hi, dy = axis(in_h, out_h)
    x_lo, x_hi, dx = axis(in_w, out_w)
    rows_lo = x.index_select(-2, y_lo)
    rows_hi = x.index_select(-2, y_hi)
    dx = dx.view(1, 1, 1, out_w)
    top_left = rows_lo.index_select(-1, x_lo)
    top = top_left + (rows_lo.index_select(-1, x_hi) - top_left) * dx
    bottom_left = rows_hi.index_select(-1, x_lo)
    bottom = bottom_left + (rows_hi.index_select(-1, x_hi) - bottom_left) * dx
    return top + (bottom - top) * dy.view(1, 1, out_h, 1)


# ---------------------------------------------------------------------------------------------
# The graph. Attribute names follow torch-fidelity's (= torchvision's) state-dict layout.


@functools.cache
def _fused_conv_available() -> bool:
    """Whether oneDNN's fused convolution + bias + ReLU (the op torch's own CPU compiler emits)
    is there: ``torch.ops.mkldnn._convolution_pointwise``."""
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        torch.ops.mkldnn._convolution_pointwise  # noqa: B018 - a lookup that may raise
    except (AttributeError, RuntimeError):
        return False
    return True


def _conv(x, weight, bias, stride, padding, relu: bool) -> torch.Tensor:
    """Convolution with bias, then ReLU when ``relu``: one fused oneDNN call for float32 on the
    CPU when no gradient is needed (bit-identical to conv2d followed by relu), else the two
    eager ops."""
    if (
        x.device.type == "cpu"
        and x.dtype == torch.float32
        and not (torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad))
        and _fused_conv_available()
    ):
        attr = "relu" if relu else "none"
        return torch.ops.mkldnn._convolution_pointwise(
            x, weight, bias, list(padding), list(stride), [1, 1], 1, attr, [None], ""
        )
    out = F.conv2d(x, weight, bias, stride, padding)
    return F.relu(out, inplace=True) if relu else out


def _cached(owner: nn.Module, attr: str, key: tuple, compute):
    """``compute()``, kept on ``owner`` under ``attr`` until ``key`` changes."""
    cache = owner.__dict__.get(attr)
    if cache is not None and cache[0] == key:
        return cache[1]
    value = compute()
    owner.__dict__[attr] = (key, value)
    return value


class _ConvBN(nn.Module):
    """conv (no bias) → batch norm (eps 1e-3, as in the TF graph) → ReLU.

    In eval mode the batch norm is folded into the convolution (:meth:`folded`), so the layer is
    one convolution with a bias and a ReLU (fused into one oneDNN call on the CPU); in train
    mode the layers run as they are. The parameters (and so the state dict) are the graph's
    either way.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size, stride=1, padding=0) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def _key(self) -> tuple | None:
        """What the folded weights depend on (storage, in-place version, dtype, device of every
        tensor); ``None`` when a parameter needs gradients (then nothing is cached)."""
        bn = self.bn
        tensors = (self.conv.weight, bn.weight, bn.bias, bn.running_mean, bn.running_var)
        if any(t.requires_grad for t in tensors):
            return None
        return (bn.eps, *((t.data_ptr(), t._version, t.dtype, t.device) for t in tensors))

    def folded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The eval-mode batch norm folded into the convolution: (W·s, β − m·s), s = γ/√(v + ε).

        BN(W ∗ x) = s·(W ∗ x − m) + β = (W·s) ∗ x + (β − m·s) per output channel (running mean m,
        running variance v). Kept until a parameter changes (new storage after
        ``load_state_dict`` or ``.to()``, or an in-place edit), so it never goes stale.
        """
        bn = self.bn

        def compute():
            scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
            return self.conv.weight * scale.view(-1, 1, 1, 1), bn.bias - bn.running_mean * scale

        key = self._key()
        return compute() if key is None else _cached(self, "_folded_cache", key, compute)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return F.relu(self.bn(self.conv(x)), inplace=True)
        weight, bias = self.folded()
        return _conv(x, weight, bias, self.conv.stride, self.conv.padding, relu=True)


def _tf_avg_pool(x: torch.Tensor) -> torch.Tensor:
    # TF's SAME-padded average pool divides by the number of real pixels under the window.
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


def _pointwise(
    owner: nn.Module, x: torch.Tensor, layers: Sequence[_ConvBN], pooled: _ConvBN | None = None
) -> list[torch.Tensor]:
    """Eval mode: several 1×1 layers reading the same input as ONE convolution (BN folded).

    Returns each layer's output (after its ReLU), in order; the concatenated weights are kept
    on ``owner`` until a parameter changes. ``pooled`` is a 1×1 layer that reads the TF average
    pool of ``x`` (the pool branch of the Mixed blocks): a 1×1 convolution and that pool are
    both linear and the pool's weights sum to 1 over every window, so
    pool(x) ∗ W + b = pool(x ∗ W + b); the layer is applied first and only its (fewer) output
    channels are pooled, then its ReLU is applied. Equal to the separate layers up to float
    rounding.
    """
    keys = tuple(layer._key() for layer in layers)

    def compute():
        weights, biases = zip(*(layer.folded() for layer in layers), strict=True)
        return torch.cat(weights), torch.cat(biases), [int(w.shape[0]) for w in weights]

    if any(k is None for k in keys):
        weight, bias, sizes = compute()
    else:
        weight, bias, sizes = _cached(owner, "_pointwise_cache", keys, compute)
    parts = list(_conv(x, weight, bias, (1, 1), (0, 0), relu=True).split(sizes, 1))
    if pooled is not None:
        w, b = pooled.folded()
        parts.append(F.relu(_tf_avg_pool(_conv(x, w, b, (1, 1), (0, 0), relu=False)), True))
    return parts


class _Mixed35(nn.Module):
    """Mixed_5b–5d (35×35): 1×1 | 1×1→5×5 | 1×1→3×3→3×3 | avg-pool→1×1."""

    def __init__(self, c_in: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(c_in, 64, 1)
        self.branch5x5_1 = _ConvBN(c_in, 48, 1)
        self.branch5x5_2 = _ConvBN(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = _ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, padding=1)
        self.branch_pool = _ConvBN(c_in, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            b1, b5, b3 = self.branch1x1(x), self.branch5x5_1(x), self.branch3x3dbl_1(x)
            bp = self.branch_pool(_tf_avg_pool(x))
        else:
            heads = (self.branch1x1, self.branch5x5_1, self.branch3x3dbl_1)
            b1, b5, b3, bp = _pointwise(self, x, heads, self.branch_pool)
        b5 = self.branch5x5_2(b5)
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(b3))
        return torch.cat([b1, b5, b3, bp], 1)


class _Reduce35to17(nn.Module):
    """Mixed_6a: stride-2 3×3 | 1×1→3×3→stride-2 3×3 | stride-2 max pool."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3 = _ConvBN(c_in, 384, 3, stride=2)
        self.branch3x3dbl_1 = _ConvBN(c_in, 64, 1)
        self.branch3x3dbl_2 = _ConvBN(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = _ConvBN(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class _Mixed17(nn.Module):
    """Mixed_6b–6e (17×17), factorised 7×7 convolutions, avg-pool branch."""

    def __init__(self, c_in: int, c7: int) -> None:
        super().__init__()
        self.branch1x1 = _ConvBN(c_in, 192, 1)
        self.branch7x7_1 = _ConvBN(c_in, c7, 1)
        self.branch7x7_2 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = _ConvBN(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = _ConvBN(c_in, c7, 1)
        self.branch7x7dbl_2 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = _ConvBN(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = _ConvBN(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = _ConvBN(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = _ConvBN(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            b1, b7, bd = self.branch1x1(x), self.branch7x7_1(x), self.branch7x7dbl_1(x)
            bp = self.branch_pool(_tf_avg_pool(x))
        else:
            heads = (self.branch1x1, self.branch7x7_1, self.branch7x7dbl_1)
            b1, b7, bd, bp = _pointwise(self, x, heads, self.branch_pool)
        b7 = self.branch7x7_3(self.branch7x7_2(b7))
        for layer in (self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            bd = layer(bd)
        bd = self.branch7x7dbl_5(bd)
        return torch.cat([b1, b7, bd, bp], 1)


class _Reduce17to8(nn.Module):
    """Mixed_7a: 1×1→stride-2 3×3 | 1×1→1×7→7×1→stride-2 3×3 | stride-2 max pool."""

    def __init__(self, c_in: int) -> None:
        super().__init__()
        self.branch3x3_1 = _ConvBN(c_in, 192, 1)
        self.branch3x3_2 = _ConvBN(192, 320, 3, stride=2)
        self.branch7x7x3_1 = _ConvBN(c_in, 192, 1)
        self.branch7x7x3_2 = _ConvBN(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = _ConvBN(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = _ConvBN(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            b3, b7 = self.branch3x3_1(x), self.branch7x7x3_1(x)
        else:
            b3, b7 = _pointwise(self, x, (self.branch3x3_1, self.branch7x7x3_1))
        b3 = self.branch3x3_2(b3)
        for layer in (self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = layer(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class _Mixed8(nn.Module):
    """Mixed_7b (avg-pool branch) and Mixed_7c (max-pool branch, a quirk of the TF graph)."""

    def __init__(self, c_in: int, pool: str) -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = _ConvBN(c_in, 320, 1)
        self.branch3x3_1 = _ConvBN(c_in, 384, 1)
        self.branch3x3_2a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = _ConvBN(c_in, 448, 1)
        self.branch3x3dbl_2 = _ConvBN(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = _ConvBN(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = _ConvBN(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = _ConvBN(c_in, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        heads = (self.branch1x1, self.branch3x3_1, self.branch3x3dbl_1)
        if self.training:
            b1, b3, bd = (layer(x) for layer in heads)
        elif self.pool == "avg":
            b1, b3, bd, bp = _pointwise(self, x, heads, self.branch_pool)
        else:
            b1, b3, bd = _pointwise(self, x, heads)
        if self.training or self.pool == "max":
            if self.pool == "max":
                pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
            else:
                pooled = _tf_avg_pool(x)
            bp = self.branch_pool(pooled)
        bd = self.branch3x3dbl_2(bd)
        parts = [b1, self.branch3x3_2a(b3), self.branch3x3_2b(b3)]
        parts += [self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd), bp]
        return torch.cat(parts, 1)

    def extra_repr(self) -> str:
        return f"pool={self.pool!r}"


def _build_layers(module: nn.Module) -> None:
    """Create the layers of the graph as attributes of ``module`` (names = the weight layout)."""
    module.Conv2d_1a_3x3 = _ConvBN(3, 32, 3, stride=2)
    module.Conv2d_2a_3x3 = _ConvBN(32, 32, 3)
    module.Conv2d_2b_3x3 = _ConvBN(32, 64, 3, padding=1)
    module.Conv2d_3b_1x1 = _ConvBN(64, 80, 1)
    module.Conv2d_4a_3x3 = _ConvBN(80, 192, 3)
    module.Mixed_5b = _Mixed35(192, pool_features=32)
    module.Mixed_5c = _Mixed35(256, pool_features=64)
    module.Mixed_5d = _Mixed35(288, pool_features=64)
    module.Mixed_6a = _Reduce35to17(288)
    module.Mixed_6b = _Mixed17(768, c7=128)
    module.Mixed_6c = _Mixed17(768, c7=160)
    module.Mixed_6d = _Mixed17(768, c7=160)
    module.Mixed_6e = _Mixed17(768, c7=192)
    module.Mixed_7a = _Reduce17to8(768)
    module.Mixed_7b = _Mixed8(1280, pool="avg")
    module.Mixed_7c = _Mixed8(2048, pool="max")
    module.fc = nn.Linear(2048, 1008)


def _expected_shapes() -> dict[str, torch.Size]:
    """Every state-dict key of the graph with its shape (built on the meta device: no memory)."""
    with torch.device("meta"):
        skeleton = nn.Module()
        _build_layers(skeleton)
    return {key: value.shape for key, value in skeleton.state_dict().items()}


# ---------------------------------------------------------------------------------------------
# Weights: finding, checking, loading, converting, random


def weights_dir() -> Path:
    """The folder searched for the weights: ``torch.hub.get_dir()/checkpoints``.

    That is ``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch/hub/checkpoints`` by default), where
    torch-fidelity and pytorch-fid cache the same files.
    """
    return hub_checkpoints_dir()


def _how_to_get_weights() -> str:
    folder = weights_dir()
    urls = "\n".join(f"    {url}" for url in _WEIGHTS_URLS.values())
    return (
        f"Put one of these files\n    {FIDELITY_WEIGHTS_NAME}   (torch-fidelity layout)\n"
        f"    {PYTORCH_FID_WEIGHTS_NAME}        (pytorch-fid layout)\n"
        f"into the folder\n    {folder}\n"
        "(set $TORCH_HOME to use another cache folder), or pass path=... . On a machine with "
        f"internet they can be fetched from\n{urls}\n"
        f"e.g. `curl -L -o {folder}/{FIDELITY_WEIGHTS_NAME} <first URL>`; running torch-fidelity "
        "or pytorch-fid once also caches them there. lib never downloads them. For a network "
        "with meaningless random weights (tests only), use weights='random'."
    )


def find_weights(path: str | os.PathLike | None = None) -> Path:
    """The weights file to load: ``path`` if given, else the first of the two known file names
    found in :func:`weights_dir`. Raises ``FileNotFoundError`` saying where to put them."""
    if path is not None:
        candidate = Path(path).expanduser()
        if not candidate.is_file():
            raise FileNotFoundError(
                f"path: no FID Inception weights file at {candidate}.\n{_how_to_get_weights()}"
            )
        return candidate
    folder = weights_dir()
    for file_name in (FIDELITY_WEIGHTS_NAME, PYTORCH_FID_WEIGHTS_NAME):
        if (folder / file_name).is_file():
            return folder / file_name
    raise FileNotFoundError(
        f"The FID Inception weights are not on this machine (looked for {FIDELITY_WEIGHTS_NAME} "
        f"and {PYTORCH_FID_WEIGHTS_NAME} in {folder}).\n{_how_to_get_weights()}"
    )


def load_weights(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], str]:
    """Read, check and convert a weights file; returns ``(state_dict, sha256)``.

    - If the file name carries a hash (torch hub convention ``name-<hex>.pth``, e.g. the
      ``6726825d`` of the official files), the file's sha256 must start with it; otherwise it is
      corrupt or a partial download and a ``ValueError`` says so.
    - The file is read with ``torch.load(weights_only=True)``: tensors and plain containers only;
      a file holding any other pickled object is refused (``ValueError``), never executed.
    - Both torch-fidelity's and pytorch-fid's layouts are accepted
      (:func:`convert_pytorch_fid_state_dict`); keys and shapes are checked against the graph.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"path: no file at {path}.\n{_how_to_get_weights()}")
    digest = check_name_hash(path)
    loaded = load_state_dict(path)
    state_dict = convert_pytorch_fid_state_dict(loaded)
    _check_state_dict(state_dict, str(path))
    return state_dict, digest


# pytorch-fid's InceptionV3 wrapper keeps the layers in four nn.Sequential blocks.
_PYTORCH_FID_BLOCKS = {
    "blocks.0.0.": "Conv2d_1a_3x3.",
    "blocks.0.1.": "Conv2d_2a_3x3.",
    "blocks.0.2.": "Conv2d_2b_3x3.",
    "blocks.1.0.": "Conv2d_3b_1x1.",
    "blocks.1.1.": "Conv2d_4a_3x3.",
    "blocks.2.0.": "Mixed_5b.",
    "blocks.2.1.": "Mixed_5c.",
    "blocks.2.2.": "Mixed_5d.",
    "blocks.2.3.": "Mixed_6a.",
    "blocks.2.4.": "Mixed_6b.",
    "blocks.2.5.": "Mixed_6c.",
    "blocks.2.6.": "Mixed_6d.",
    "blocks.2.7.": "Mixed_6e.",
    "blocks.3.0.": "Mixed_7a.",
    "blocks.3.1.": "Mixed_7b.",
    "blocks.3.2.": "Mixed_7c.",
}


def convert_pytorch_fid_state_dict(
    state_dict: Mapping[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Bring a pytorch-fid state dict into this module's (= torch-fidelity's) layout.

    pytorch-fid's weights file ``pt_inception-2015-12-05-6726825d.pth`` is the state dict of its
    ``fid_inception_v3()`` network, which uses torchvision's module names — the same names as
    torch-fidelity's file, so for it this only normalises: a ``module.`` prefix (DataParallel)
    is removed and BatchNorm ``num_batches_tracked`` counters that older files lack are added.
    The state dict of pytorch-fid's ``InceptionV3`` wrapper (``blocks.2.4.branch1x1...``) is
    renamed too; it has no ``fc`` layer, so logits cannot come from such a file.
    A state dict already in this layout is returned unchanged (as a new dict).
    """
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        if key.startswith("module."):
            key = key[len("module.") :]
        for old, new in _PYTORCH_FID_BLOCKS.items():
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        out[key] = value
    for key in list(out):
        if key.endswith(".running_mean"):
            counter = key[: -len("running_mean")] + "num_batches_tracked"
            out.setdefault(counter, torch.tensor(0, dtype=torch.long))
    return out


def _check_state_dict(state_dict: Mapping[str, torch.Tensor], source: str) -> None:
    problems = state_dict_problems(state_dict, _expected_shapes())
    if problems:
        raise ValueError(
            f"{source}: not the FID Inception (2015-12-05) weights: " + "; ".join(problems)
        )


def random_state_dict(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in this module's layout — MEANINGLESS for evaluation, for tests only.

    Drawn from a seeded CPU generator (the same on every machine) so that activations stay
    well-scaled and non-degenerate through the whole graph: He-normal convolutions, BatchNorm
    scales in [0.8, 1.2], shifts N(0, 0.1²), running means N(0, 0.1²) and running variances
    log-normal around 1 (so the eps and variance terms of BatchNorm are really exercised),
    fc weights N(0, 0.05²) and bias N(0, 0.1²).
    """
    generator = torch.Generator().manual_seed(int(seed))
    out: dict[str, torch.Tensor] = {}

    def normal(shape, std, mean=0.0):
        return torch.randn(shape, generator=generator) * std + mean

    for key, shape in _expected_shapes().items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(0, dtype=torch.long)
        elif key.endswith("conv.weight"):
            fan_in = shape[1] * shape[2] * shape[3]
            out[key] = normal(shape, (2.0 / fan_in) ** 0.5)
        elif key.endswith("bn.weight"):
            out[key] = 0.8 + 0.4 * torch.rand(shape, generator=generator)
        elif key.endswith("bn.bias") or key.endswith("running_mean") or key == "fc.bias":
            out[key] = normal(shape, 0.1)
        elif key.endswith("running_var"):
            out[key] = torch.exp(normal(shape, 0.3))
        elif key == "fc.weight":
            out[key] = normal(shape, 0.05)
        else:  # pragma: no cover - the graph has no other kind of tensor
            raise AssertionError(f"no random initialiser for {key}")
    return out


@contextlib.contextmanager
def _full_fp32_on_cuda(device: torch.device):
    """Disable TF32 for convolutions and matmuls while the network runs on CUDA.

    PyTorch lets cuDNN convolutions use TF32 by default, which moves Inception features by
    ~1e-3 relative on Ampere and later GPUs; FID is compared across tools and machines, so the
    network runs in true float32. The previous settings are restored afterwards.
    """
    if device.type != "cuda":
        yield
        return
    backends = [torch.backends.cudnn.conv, torch.backends.cuda.matmul]
    saved = []
    try:
        for backend in backends:
            if not hasattr(backend, "fp32_precision"):  # older torch: leave its defaults alone
                continue
            saved.append((backend, backend.fp32_precision))
            backend.fp32_precision = "ieee"
        yield
    finally:
        for backend, value in reversed(saved):
            backend.fp32_precision = value


# ---------------------------------------------------------------------------------------------
# The feature extractor


class InceptionFID(FeatureExtractor):
    """The TF 2015-12-05 FID Inception network (pool3 features, 1008-way classifier).

    Args:
        path: a weights file (torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``,
            pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` or a converted one). Default:
            look for either name in ``torch.hub.get_dir()/checkpoints``
            (``$TORCH_HOME/hub/checkpoints``). Never downloaded; a missing file raises
            ``FileNotFoundError`` saying where to put it and how to get it.
        weights: ``"pretrained"`` (the default: the file above) or ``"random"``: seeded random
            weights from :func:`random_state_dict`. Random weights make the numbers
            **meaningless** for evaluation; they exist for tests and for timing.
        seed: the seed of the random weights.
        tap: what :meth:`features` returns (``"2048"`` by default, the pool3 features of
            FID/KID); one of ``"64"``, ``"192"``, ``"768"``, ``"2048"``, ``"logits_unbiased"``,
            ``"logits"``.

    Input: N×C×H×W RGB (or grey, repeated to RGB), uint8 in 0..255 or float in [0, 1], any size
    (resized to 299×299 with TF1's bilinear resize, see the module docstring). :meth:`logits`
    returns ``"logits_unbiased"`` (pool3 · Wᵀ, no bias), which is what the Inception Score of the
    original code and of torch-fidelity uses. On CUDA the network runs with TF32 disabled.
    """

    name = "inception-fid"
    num_classes = 1008
    taps = tuple(TAP_DIMS)
    logits_tap = "logits_unbiased"
    input_channels = (1, 3)
    accepts_uint8 = True
    input_range = "float in [0, 1] (scaled ×255, not rounded); grey images repeated to RGB"
    resize = (
        "to 299×299, TensorFlow 1.x bilinear (align_corners=False, no half-pixel offset, "
        "no antialiasing), as torch-fidelity and the original TF code"
    )
    normalisation = "(x − 128) / 128 on [0, 255] values"
    default_batch_size = 32

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        *,
        weights: str = "pretrained",
        seed: int = 0,
        tap: str = "2048",
    ) -> None:
        super().__init__()
        check_choice(weights, "weights", ("pretrained", "random"))
        check_choice(tap, "tap", self.taps)
        if weights == "random":
            if path is not None:
                raise ValueError(
                    "path: a weights file was given together with weights='random'; drop one"
                )
            state_dict = random_state_dict(seed)
            self._weights_info = (
                f"RANDOM (seed {seed}) — features are meaningless for evaluation, tests only"
            )
        else:
            file = find_weights(path)
            state_dict, digest = load_weights(file)
            self._weights_info = f"{file} (sha256 {digest[:16]}…)"
        state_dict = {k: v.float() if v.is_floating_point() else v for k, v in state_dict.items()}
        with torch.device("meta"):  # no time or memory spent on an init that is overwritten
            _build_layers(self)
        self.load_state_dict(state_dict, assign=True)
        self.requires_grad_(False)
        self.eval()
        self.default_tap = tap
        self.num_features = TAP_DIMS[tap]

    def weights_description(self) -> str:
        return self._weights_info

    def preprocess(self, images) -> torch.Tensor:
        """Images (uint8, or float in [0, 1]) → the network input, N×3×299×299.

        Values on [0, 255] (float input ×255), TF1 bilinear resize to 299×299,
        ``(x − 128) / 128``; computed in the module's dtype on the images' device.
        """
        return self._preprocess(self.validate(images))

    def _preprocess(self, images: torch.Tensor) -> torch.Tensor:
        dtype = self.fc.weight.dtype
        x = images.to(dtype) if images.dtype == torch.uint8 else images.to(dtype) * 255
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        x = tf1_bilinear_resize(x, (INPUT_SIZE, INPUT_SIZE))
        return (x - 128) / 128

    def _run(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        with _full_fp32_on_cuda(x.device):
            return self._network(self._preprocess(x), taps)

    def _network(self, x: torch.Tensor, taps: Sequence[str]) -> dict[str, torch.Tensor]:
        """The graph from the normalised 299×299 input to the requested taps."""
        last = max(_TAP_DEPTH[t] for t in taps)
        out: dict[str, torch.Tensor] = {}

        def spatial_mean(t: torch.Tensor) -> torch.Tensor:
            return F.adaptive_avg_pool2d(t, (1, 1)).flatten(1)

        if x.device.type == "cpu":
            # oneDNN's convolutions run faster on NHWC; every layer keeps the layout it is given.
            x = x.contiguous(memory_format=torch.channels_last)
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # N×64×73×73
        if "64" in taps:
            out["64"] = spatial_mean(x)
        if last == 0:
            return out
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)  # N×192×35×35
        if "192" in taps:
            out["192"] = spatial_mean(x)
        if last == 1:
            return out
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a):
            x = block(x)
        for block in (self.Mixed_6b, self.Mixed_6c, self.Mixed_6d, self.Mixed_6e):
            x = block(x)  # N×768×17×17
        if "768" in taps:
            out["768"] = spatial_mean(x)
        if last == 2:
            return out
        x = self.Mixed_7c(self.Mixed_7b(self.Mixed_7a(x)))  # N×2048×8×8
        pool3 = spatial_mean(x)
        out["2048"] = pool3
        if last == 3:
            return out
        unbiased = pool3 @ self.fc.weight.T
        out["logits_unbiased"] = unbiased
        out["logits"] = unbiased + self.fc.bias
        return out

"""The layers of the FID Inception graph (TF 2015-12-05), built for speed on the CPU.

Attribute names follow torch-fidelity's (= torchvision's) state-dict layout, so its weight file
loads as it is. BatchNorm is folded into the convolutions, convolution + bias + ReLU run as one
oneDNN op where available, and the 1×1 branches that read the same input are merged into one
convolution (see ``benchmarks/`` for the side-by-side timings); the folded weights are cached
and recomputed whenever the parameters change.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


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


def _running_stats(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """The running mean and variance, which every batch norm of the graph tracks (the stubs
    allow ``None`` for layers built with ``track_running_stats=False``)."""
    mean, var = bn.running_mean, bn.running_var
    if mean is None or var is None:
        raise ValueError("bn: the batch norm tracks no running statistics; the graph needs them")
    return mean, var


class _ConvBN(nn.Module):
    """conv (no bias) → batch norm (eps 1e-3, as in the TF graph) → ReLU.

    In eval mode the batch norm is folded into the convolution (:meth:`folded`), so the layer is
    one convolution with a bias and a ReLU (fused into one oneDNN call on the CPU); in train
    mode the layers run as they are. The parameters (and so the state dict) are the graph's
    either way.
    """

    def __init__(
        self,
        c_in: int,
        c_out: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False)
        self.bn = nn.BatchNorm2d(c_out, eps=0.001)

    def _key(self) -> tuple | None:
        """What the folded weights depend on (storage, in-place version, dtype, device of every
        tensor); ``None`` when a parameter needs gradients (then nothing is cached)."""
        bn = self.bn
        mean, var = _running_stats(bn)
        tensors = (self.conv.weight, bn.weight, bn.bias, mean, var)
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
        mean, var = _running_stats(bn)

        def compute() -> tuple[torch.Tensor, torch.Tensor]:
            scale = bn.weight * torch.rsqrt(var + bn.eps)
            return self.conv.weight * scale.view(-1, 1, 1, 1), bn.bias - mean * scale

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
    # cudnn.conv is a runtime attribute of torch >= 2.9 that the stubs do not declare; an older
    # torch has neither it nor fp32_precision, and its defaults are left alone.
    backends = [getattr(torch.backends.cudnn, "conv", None), torch.backends.cuda.matmul]
    saved = []
    try:
        for backend in backends:
            if backend is None or not hasattr(backend, "fp32_precision"):
                continue
            saved.append((backend, backend.fp32_precision))
            backend.fp32_precision = "ieee"
        yield
    finally:
        for backend, value in reversed(saved):
            backend.fp32_precision = value

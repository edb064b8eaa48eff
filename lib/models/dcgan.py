"""A small class-conditional DCGAN for 32×32 images: the course's "real generator" with
checkpoints along its training, on which the metrics are watched improving.

Generator ``G(z, y)`` (Radford et al. 2016, DCGAN, with class-conditional BatchNorm as in
Miyato & Koyama 2018, §4 and de Vries et al. 2017)::

    z ~ N(0, I_64), y ∈ {0..K−1}
    h = Linear([z, embed(y)]) → 64×4×4                       CBN(y), ReLU
    3 × [ConvTranspose 4×4 stride 2 → CBN(y) → ReLU]          4 → 8 → 16 → 32 px
    x = sigmoid(Conv 3×3 → C)                                 images in [0, 1]

``CBN(y)`` normalises with BatchNorm (no affine) and applies a per-class gain and bias.

Discriminator ``D(x, y)``: strided 4×4 convolutions (32 → 64 → 128 channels, each followed by
a 3×3 convolution at the same resolution), LeakyReLU(0.2), no normalisation, sum-pooled to
``φ(x) ∈ R^128``, and the projection output (Miyato & Koyama 2018, eq. 3)::

    D(x, y) = wᵀφ(x) + b + embed_D(y)ᵀ φ(x)

plus an auxiliary classifier head ``c(x) = Vφ(x)`` (Odena et al. 2017, AC-GAN) trained on real
images only, that the generator is asked to satisfy too (see :mod:`lib.train.recipes.dcgan`).

The loss is the hinge loss (Lim & Ye 2017; Miyato et al. 2018, eq. 16)::

    L_D = E[max(0, 1 − D(x, y))] + E[max(0, 1 + D(G(z, y), y))] + λ CE(c(x), y)
    L_G = −E[D(G(z, y), y)] + λ CE(c(G(z, y)), y)

Trained checkpoints live in ``data/gan`` (``<dataset>-step<k>.safetensors``, ``manifest.json``);
:func:`load_generator` verifies their sha256 and loads them with safetensors (no pickle).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import torch
import torch.nn.functional as F
from torch import nn

from lib._checks import check_choice, check_positive_int
from lib.datasets import DIGIT_CLASSES, SHAPE_CLASSES, ImageSet
from lib.device import resolve_device
from lib.paths import DATA_DIR
from lib.weights import manifest_entry, read_weights

GAN_DIR = DATA_DIR / "gan"
DATASETS = {"shapes": (3, SHAPE_CLASSES), "digits": (1, DIGIT_CLASSES)}
RETRAIN = "python -m lib.train dcgan --dataset {dataset}"

__all__ = [
    "DATASETS",
    "GAN_DIR",
    "ConditionalBatchNorm2d",
    "ConditionalDiscriminator",
    "ConditionalGenerator",
    "checkpoint_steps",
    "generate",
    "load_generator",
]


class ConditionalBatchNorm2d(nn.Module):
    """BatchNorm without its own affine transform, followed by a gain and bias computed from a
    conditioning vector (the class embedding and the noise): ``BN(x)·(1 + W_g c) + W_b c``.

    Feeding the noise to every layer ("skip-z", Brock et al. 2019, BigGAN §3) lets it set
    per-image properties such as the colours directly instead of only through the 4×4 input."""

    def __init__(self, channels: int, cond_dim: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(channels, affine=False)
        self.gain = nn.Linear(cond_dim, channels)
        self.bias = nn.Linear(cond_dim, channels)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        gain = 1 + self.gain(cond)[:, :, None, None]
        return self.norm(x) * gain + self.bias(cond)[:, :, None, None]


def _check_channels(channels: int) -> int:
    if channels not in (1, 3):
        raise ValueError(f"channels: expected 1 (grey) or 3 (RGB), got {channels!r}")
    return channels


def _check_labels(y, n: int, num_classes: int, name: str = "y") -> torch.Tensor:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name}: expected an integer tensor of class labels, got {type(y)}")
    if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
        raise TypeError(f"{name}: expected integer class labels, got dtype {y.dtype}")
    if y.shape != (n,):
        raise ValueError(
            f"{name}: expected shape ({n},), one label per sample, got {tuple(y.shape)}"
        )
    if n and (int(y.min()) < 0 or int(y.max()) >= num_classes):
        raise ValueError(
            f"{name}: labels must lie in 0..{num_classes - 1}, got values in "
            f"[{int(y.min())}, {int(y.max())}]"
        )
    return y.long()


class ConditionalGenerator(nn.Module):
    """``G(z, y)``: 64-d normal noise and a class label → a 32×32 image in [0, 1].

    Attributes: ``z_dim``, ``num_classes``, ``channels`` (1 or 3), ``widths`` (channels at 4, 8,
    16 and 32 px) and ``embed_dim`` (the class embedding concatenated to ``z``); :meth:`config`
    returns them as the keyword arguments that rebuild the network.
    """

    # Set by the loader on a committed network; declared so that they are plain attributes.
    dataset: str
    step: int
    info: dict[str, Any]
    source: str

    def __init__(
        self,
        channels: int = 3,
        num_classes: int = 10,
        *,
        z_dim: int = 64,
        widths: tuple[int, ...] = (64, 64, 32, 16),
        embed_dim: int = 16,
    ) -> None:
        super().__init__()
        self.channels = _check_channels(channels)
        self.num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
        self.z_dim = check_positive_int(z_dim, "z_dim")
        self.embed_dim = check_positive_int(embed_dim, "embed_dim")
        widths = tuple(int(w) for w in widths)
        if len(widths) != 4 or min(widths) < 1:
            raise ValueError(f"widths: expected 4 positive channel counts, got {widths!r}")
        self.widths = widths
        self.embed = nn.Embedding(num_classes, embed_dim)
        self.project = nn.Linear(z_dim + embed_dim, widths[0] * 16)
        cond_dim = z_dim + embed_dim
        self.norm0 = ConditionalBatchNorm2d(widths[0], cond_dim)
        self.ups = nn.ModuleList(
            nn.ConvTranspose2d(a, b, 4, stride=2, padding=1, bias=False)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.norms = nn.ModuleList(ConditionalBatchNorm2d(b, cond_dim) for b in widths[1:])
        self.to_image = nn.Conv2d(widths[-1], channels, 3, padding=1)

    def config(self) -> dict:
        return {
            "channels": self.channels,
            "num_classes": self.num_classes,
            "z_dim": self.z_dim,
            "widths": list(self.widths),
            "embed_dim": self.embed_dim,
        }

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """N×z_dim noise and N labels → N×C×32×32 images in [0, 1] (differentiable)."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise ValueError(f"z: expected shape (N, {self.z_dim}), got {tuple(z.shape)}")
        y = _check_labels(y, z.shape[0], self.num_classes)
        cond = torch.cat([z, self.embed(y)], dim=1)
        h = F.relu(self.norm0(self.project(cond).view(-1, self.widths[0], 4, 4), cond))
        for up, norm in zip(self.ups, self.norms, strict=True):
            h = F.relu(norm(up(h), cond))
        return torch.sigmoid(self.to_image(h))

    def extra_repr(self) -> str:
        return f"z_dim={self.z_dim}, num_classes={self.num_classes}, channels={self.channels}"


class ConditionalDiscriminator(nn.Module):
    """``D(x, y)``: a projection discriminator (one real/fake score per image) with an auxiliary
    classifier head, whose logits are left in :attr:`last_class_logits` after each call.

    Stages of a strided 4×4 convolution and a 3×3 convolution, LeakyReLU(0.2), no normalisation,
    Kaiming-initialised so the activation scale survives the depth (with PyTorch's default
    initialisation the features start near zero and the classifier head learns far slower). A
    minibatch standard-deviation feature map (Karras et al. 2018, §3) enters the last 3×3
    convolution, so that a generator that ignores its noise is easy to spot.
    """

    def __init__(
        self,
        channels: int = 3,
        num_classes: int = 10,
        *,
        widths: tuple[int, ...] = (32, 64, 128),
        minibatch_std: bool = True,
    ) -> None:
        super().__init__()
        self.channels = _check_channels(channels)
        self.num_classes = check_positive_int(num_classes, "num_classes", minimum=2)
        self.widths = tuple(int(w) for w in widths)
        if len(self.widths) != 3 or min(self.widths) < 1:
            raise ValueError(f"widths: expected 3 positive channel counts, got {widths!r}")
        self.minibatch_std = bool(minibatch_std)
        layers: list[nn.Module] = []
        previous = channels
        for k, width in enumerate(self.widths):
            last = k == len(self.widths) - 1
            layers += [nn.Conv2d(previous, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
            layers += [nn.Conv2d(width + (last and minibatch_std), width, 3, padding=1)]
            layers += [nn.LeakyReLU(0.2)]
            previous = width
        self.body = nn.Sequential(*layers)
        self._std_at = len(layers) - 2 if minibatch_std else -1  # before the last 3×3 conv
        for layer in self.body:
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(cast(torch.Tensor, layer.bias))  # Conv2d has a bias by default
        self.score = nn.Linear(previous, 1)
        self.embed = nn.Embedding(num_classes, previous)
        self.classify = nn.Linear(previous, num_classes)
        nn.init.normal_(self.embed.weight, std=previous**-0.5)
        self.last_class_logits: torch.Tensor | None = None

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """N×C×32×32 images in [0, 1] and N labels → N real/fake scores (higher = real)."""
        if x.ndim != 4 or x.shape[1] != self.channels or x.shape[-2:] != (32, 32):
            raise ValueError(
                f"x: expected N×{self.channels}×32×32 images, got shape {tuple(x.shape)}"
            )
        y = _check_labels(y, x.shape[0], self.num_classes)
        h = x * 2 - 1
        for k, layer in enumerate(self.body):
            if k == self._std_at:
                h = torch.cat([h, _minibatch_std(h)], dim=1)
            h = layer(h)
        phi = h.sum(dim=(2, 3))
        self.last_class_logits = self.classify(phi)
        return self.score(phi).squeeze(1) + (self.embed(y) * phi).sum(dim=1)


def _minibatch_std(h: torch.Tensor, group: int = 4) -> torch.Tensor:
    """One feature map per image: the standard deviation of the features over its group of
    ``group`` images, averaged over channels and positions."""
    n = h.shape[0]
    g = group if n % group == 0 else n
    std = h.view(g, -1, *h.shape[1:]).var(dim=0, unbiased=False).add(1e-8).sqrt()
    std = std.mean(dim=(1, 2, 3))  # one number per group member slot
    return std.repeat(g)[:, None, None, None].expand(n, 1, *h.shape[2:])


# ------------------------------------------------------------------------------ sampling
def _resolve_labels(labels, n: int, num_classes: int) -> torch.Tensor:
    if labels is None:  # balanced: 0, 1, ..., K−1, 0, 1, ... (class counts differ by ≤ 1)
        return torch.arange(n) % num_classes
    if isinstance(labels, bool):
        raise TypeError("labels: expected None, an int or an integer tensor, got a bool")
    if isinstance(labels, int):
        if not 0 <= labels < num_classes:
            raise ValueError(f"labels: class {labels} is out of range 0..{num_classes - 1}")
        return torch.full((n,), labels, dtype=torch.long)
    if isinstance(labels, torch.Tensor) or hasattr(labels, "__len__"):
        labels = torch.as_tensor(labels).cpu()
        if labels.ndim == 0:
            return _resolve_labels(int(labels), n, num_classes)
        return _check_labels(labels, n, num_classes, "labels")
    raise TypeError(f"labels: expected None, an int or an integer tensor, got {type(labels)}")


@torch.no_grad()
def generate(
    generator: ConditionalGenerator,
    n: int,
    *,
    labels: None | int | torch.Tensor = None,
    seed: int = 0,
    batch_size: int = 500,
    device: str | torch.device | None = None,
) -> ImageSet:
    """``n`` images from ``generator`` (N×C×32×32 in [0, 1]) with their conditioning labels.

    ``labels``: ``None`` for balanced classes (0, 1, …, K−1, 0, 1, …), an int for one class, or
    a tensor of ``n`` labels. All noise is drawn up front on the CPU from a generator seeded with
    ``seed``, and the network runs in eval mode (BatchNorm uses its running statistics), so the
    images depend on ``seed`` only — not on ``batch_size`` or the device beyond round-off.
    ``device``: where to run (``None``: where the generator is; ``"auto"``: CUDA when present);
    the images are returned on that device.
    """
    if not isinstance(generator, ConditionalGenerator):
        raise TypeError(
            f"generator: expected a ConditionalGenerator, got {type(generator).__name__}"
        )
    check_positive_int(n, "n")
    check_positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed: expected an integer, got {type(seed).__name__}")
    y = _resolve_labels(labels, n, generator.num_classes)
    z = torch.randn(n, generator.z_dim, generator=torch.Generator().manual_seed(seed))
    current = next(generator.parameters()).device
    target = current if device is None else resolve_device(device)
    was_training = generator.training
    net = generator.to(target).eval()
    try:
        parts = [
            net(z[i : i + batch_size].to(target), y[i : i + batch_size].to(target))
            for i in range(0, n, batch_size)
        ]
    finally:
        generator.train(was_training)
    dataset = getattr(generator, "dataset", "")
    class_names = DATASETS[dataset][1] if dataset in DATASETS else ()
    if len(class_names) != generator.num_classes:
        class_names = tuple(str(k) for k in range(generator.num_classes))
    info = {"seed": seed, "generator": getattr(generator, "source", "in memory")}
    name = f"dcgan-{dataset}" if dataset else "dcgan"
    return ImageSet(torch.cat(parts).clamp_(0, 1), y.to(target), class_names, name, info)


# ------------------------------------------------------------------------------ checkpoints
def _entry(dataset: str, folder: Path) -> dict:
    check_choice(dataset, "dataset", tuple(DATASETS))
    how = f"retrain with `{RETRAIN.format(dataset=dataset)}`"
    return manifest_entry(folder, dataset, how_to_fix=how)


def checkpoint_steps(
    dataset: str = "shapes", *, folder: str | os.PathLike | None = None
) -> list[int]:
    """The training steps at which ``dataset``'s generator was saved, ascending (0 = untrained)."""
    folder = GAN_DIR if folder is None else Path(folder)
    return sorted(int(c["step"]) for c in _entry(dataset, folder)["checkpoints"])


def load_generator(
    dataset: str = "shapes",
    step: int | None = None,
    *,
    folder: str | os.PathLike | None = None,
) -> ConditionalGenerator:
    """The trained generator of ``dataset`` (``"shapes"`` or ``"digits"``) at training ``step``
    (``None``: the final one), in eval mode on the CPU, in float32.

    The file's sha256 is checked against the manifest and it is loaded with
    safetensors (nothing is unpickled); a missing, corrupt or replaced file raises an error that
    says how to regenerate it. ``generator.step``, ``.dataset`` and ``.info`` (the manifest's
    entry for that checkpoint: losses, FID, label accuracy) say what was loaded.
    """
    folder = GAN_DIR if folder is None else Path(folder)
    entry = _entry(dataset, folder)
    by_step = {int(c["step"]): c for c in entry["checkpoints"]}
    if step is None:
        step = max(by_step)
    elif isinstance(step, bool) or not isinstance(step, int):
        raise TypeError(f"step: expected an integer or None, got {type(step).__name__}")
    if step not in by_step:
        raise ValueError(
            f"step: no {dataset!r} checkpoint at step {step}; available steps: {sorted(by_step)}"
        )
    checkpoint = by_step[step]
    how = f"restore it from the repository or retrain with `{RETRAIN.format(dataset=dataset)}`"
    state = read_weights(folder / checkpoint["file"], sha256=checkpoint["sha256"], how_to_fix=how)
    net = ConditionalGenerator(**entry["generator"])
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    net.load_state_dict(state)
    net.dataset = dataset
    net.step = step
    net.info = dict(checkpoint)
    net.source = f"{checkpoint['file']} (sha256 {checkpoint['sha256'][:12]}…)"
    return net.eval()

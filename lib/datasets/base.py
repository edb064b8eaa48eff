"""The container every data set of the course is returned in."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from lib._checks import check_images


def proportional_counts(weights: torch.Tensor, n: int) -> torch.Tensor:
    """Split ``n`` into integer parts proportional to non-negative ``weights`` by the largest
    remainder method (ties go to the lower index), so the parts sum to ``n`` exactly and each is
    within one of its exact share."""
    weights = torch.as_tensor(weights, dtype=torch.float64)
    exact = weights / weights.sum() * n
    counts = torch.floor(exact).long()
    remainder = n - int(counts.sum())
    if remainder:
        order = torch.sort(-(exact - counts), stable=True).indices
        counts[order[:remainder]] += 1
    return counts


@dataclass(frozen=True)
class ImageSet:
    """Images as float N×C×H×W tensors in [0, 1], with integer labels where the set has them.

    ``images[i]`` has label ``labels[i]`` and class name ``class_names[labels[i]]``. Indexing an
    ImageSet with an int, slice, index tensor or boolean mask returns an ImageSet of those images.
    """

    images: torch.Tensor
    labels: torch.Tensor | None = None
    class_names: tuple[str, ...] = ()
    name: str = ""
    info: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.images.ndim != 4:
            raise ValueError(f"images: expected N×C×H×W, got shape {tuple(self.images.shape)}")
        if self.labels is not None and self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"labels: expected shape ({self.images.shape[0]},) to match the images, "
                f"got {tuple(self.labels.shape)}"
            )

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index) -> ImageSet:
        if isinstance(index, int):
            index = slice(index, index + 1) if index != -1 else slice(-1, None)
        labels = None if self.labels is None else self.labels[index]
        return ImageSet(self.images[index], labels, self.class_names, self.name, dict(self.info))

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def to(self, device: str | torch.device) -> ImageSet:
        labels = None if self.labels is None else self.labels.to(device)
        return ImageSet(self.images.to(device), labels, self.class_names, self.name, self.info)

    def class_counts(self) -> torch.Tensor:
        """Number of images of each class (length ``num_classes``)."""
        if self.labels is None:
            raise ValueError(f"{self.name or 'this set'} has no labels")
        return torch.bincount(self.labels.cpu(), minlength=self.num_classes)

    def rgb(self) -> ImageSet:
        """The set with grey images repeated to three channels (RGB sets are returned as is)."""
        if self.images.shape[1] == 3:
            return self
        return ImageSet(
            self.images.expand(-1, 3, -1, -1).contiguous(),
            self.labels,
            self.class_names,
            self.name,
            dict(self.info),
        )

    def __repr__(self) -> str:
        n, c, h, w = self.images.shape
        labels = f", {self.num_classes} classes" if self.labels is not None else ""
        return f"ImageSet({self.name!r}: {n} images, {c}×{h}×{w}{labels}, {self.images.device})"


def check_image_set(value: object, name: str = "images") -> ImageSet:
    """``value`` when it is an :class:`ImageSet` of valid images (float N×C×H×W in [0, 1]);
    a ``TypeError`` that says how to wrap a tensor otherwise."""
    if not isinstance(value, ImageSet):
        raise TypeError(
            f"{name}: expected a lib.datasets.ImageSet, got {type(value).__name__}; wrap a "
            "tensor as ImageSet(images, labels)"
        )
    check_images(value.images, f"{name}.images")
    return value

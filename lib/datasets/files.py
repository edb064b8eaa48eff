"""Loaders for real data a user has on disk: MNIST (IDX files), CIFAR-10 (its python or binary
batches) and a folder of images. They read only from the path given and never download unless
asked to with ``download=True``."""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import numpy as np
import torch

from lib._checks import check_choice
from lib.datasets.base import ImageSet

MNIST_SHAPE = (28, 28)
MNIST_CLASSES = 10
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
CIFAR10_BATCHES = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}
IMAGE_EXTENSIONS = (
    ".png",
    ".jpg",
    ".jpeg",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".ppm",
    ".pgm",
    ".pbm",
)


def _check_labels(labels: np.ndarray, classes: int, path: Path, what: str) -> None:
    """Refuse a label file whose labels are not class indices 0..classes − 1: a file that holds
    label 200 for a 10-class set is another data set's file, or a corrupt one."""
    outside = (labels < 0) | (labels >= classes)
    if outside.any():
        raise ValueError(
            f"{path}: {what} labels must be 0..{classes - 1}, but {int(outside.sum())} of "
            f"{labels.size} are not (e.g. {int(labels[outside][0])}); this is not a {what} "
            "label file, or it is corrupt"
        )


def _existing_dir(path, what: str, hint: str) -> Path:
    if path is None:
        raise ValueError(f"path: give the folder that holds {what}; {hint}")
    root = Path(path).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"path: {root} does not exist; {hint}")
    if not root.is_dir():
        raise NotADirectoryError(f"path: {root} is not a folder; {hint}")
    return root


# --------------------------------------------------------------------------------------- MNIST
def _download(path: str | Path | None, split: str, what: str, torchvision_class: str) -> None:
    """Fetch the ``split`` of a data set into ``path`` with torchvision's class of that name."""
    if path is None:
        raise ValueError(f"path: give a folder to download {what} into")
    # Imported here: torchvision's data set classes are only needed on this rare path.
    from torchvision import datasets

    getattr(datasets, torchvision_class)(str(path), train=split == "train", download=True)


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (optionally gzipped) of unsigned bytes, as in MNIST's distribution.

    Format: two zero bytes, a type byte (0x08 = unsigned byte), the number of dimensions, then
    one big-endian int32 per dimension, then the data.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{path}: corrupt gzip file ({exc}); download it again") from exc
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(
            f"{path}: not an IDX file of unsigned bytes (bad magic number {raw[:4].hex()}); "
            "expected MNIST's original files"
        )
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) if shape else 0
    if len(raw) - header != expected:
        raise ValueError(
            f"{path}: header says shape {shape} ({expected} bytes) but the file holds "
            f"{len(raw) - header} bytes of data; the file is truncated or corrupt"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _find_mnist_file(root: Path, stem: str) -> Path | None:
    for folder in (root, root / "MNIST" / "raw", root / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def mnist(path: str | Path | None, split: str = "train", *, download: bool = False) -> ImageSet:
    """MNIST from its original IDX files under ``path`` as N×1×28×28 floats in [0, 1].

    Looks for ``train-images-idx3-ubyte`` (or ``.gz``) etc. in ``path``, ``path/MNIST/raw`` (the
    torchvision layout) or ``path/raw``. Fashion-MNIST ships in the same format and loads too.
    ``download=True`` fetches the files with torchvision into ``path`` first (needs a network).
    """
    check_choice(split, "split", tuple(MNIST_FILES))
    hint = "point it at the folder with MNIST's IDX files (or pass download=True once)"
    if download:
        _download(path, split, "MNIST", "MNIST")
    root = _existing_dir(path, "MNIST's IDX files", hint)
    found = [_find_mnist_file(root, stem) for stem in MNIST_FILES[split]]
    images_file, labels_file = found
    if images_file is None or labels_file is None:
        missing = [stem for stem, f in zip(MNIST_FILES[split], found, strict=True) if f is None]
        raise FileNotFoundError(f"path: {root} has no {', '.join(missing)} (nor .gz); {hint}")
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3 or images.shape[1:] != MNIST_SHAPE:
        raise ValueError(
            f"{images_file}: MNIST images are N×{MNIST_SHAPE[0]}×{MNIST_SHAPE[1]}, the file holds "
            f"shape {images.shape}; this is not an MNIST image file"
        )
    if labels.ndim != 1:
        raise ValueError(
            f"{labels_file}: MNIST labels are one byte per image, the file holds shape "
            f"{labels.shape}; this is not an MNIST label file"
        )
    if len(images) != len(labels):
        raise ValueError(
            f"{root}: {len(images)} images ({images_file.name}) and {len(labels)} labels "
            f"({labels_file.name}) do not form an MNIST split"
        )
    _check_labels(labels, MNIST_CLASSES, labels_file, "MNIST")
    x = torch.from_numpy(images.copy()).unsqueeze(1).float().div_(255)
    y = torch.from_numpy(labels.astype(np.int64))
    classes = tuple(str(d) for d in range(MNIST_CLASSES))
    return ImageSet(x, y, classes, "mnist", {"split": split})


# ------------------------------------------------------------------------------------ CIFAR-10
class _ArrayOnlyUnpickler(pickle.Unpickler):
    """Unpickles CIFAR-10's python batches: dicts, lists, bytes and numpy arrays, nothing else."""

    _allowed = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 spell raw bytes
    }

    def find_class(self, module: str, name: str):
        if (module, name) in self._allowed:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name}: a CIFAR-10 batch holds only arrays and lists"
        )


def _read_cifar_python_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open("rb") as fh:
            batch = _ArrayOnlyUnpickler(io.BytesIO(fh.read()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
        raise ValueError(f"{path}: not a CIFAR-10 python batch ({exc})") from exc
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: not a CIFAR-10 python batch (holds a {type(batch).__name__})")
    data, labels = batch.get(b"data", batch.get("data")), batch.get(b"labels", batch.get("labels"))
    if data is None or labels is None:
        raise ValueError(f"{path}: a CIFAR-10 batch needs 'data' and 'labels' entries")
    data, labels = np.asarray(data), np.asarray(labels)
    # Casting first would wrap 256 to 0 and truncate 1.5 to 1: check the values as stored.
    if data.size and (data.dtype.kind not in "iu" or data.min() < 0 or data.max() > 255):
        raise ValueError(f"{path}: CIFAR-10 pixels are bytes 0..255, got {data.dtype} values")
    if labels.ndim != 1 or (labels.size and labels.dtype.kind not in "iu"):
        raise ValueError(
            f"{path}: CIFAR-10 labels are a list of integers, got {labels.dtype} of shape "
            f"{labels.shape}"
        )
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise ValueError(
            f"{path}: expected data of shape N×3072 (3×32×32 images) and N labels, got data "
            f"{data.shape} and {len(labels)} labels"
        )
    labels = labels.astype(np.int64)
    _check_labels(labels, len(CIFAR10_CLASSES), path, "CIFAR-10")
    return data.astype(np.uint8), labels


def _read_cifar_binary_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % 3073:
        raise ValueError(
            f"{path}: a CIFAR-10 binary batch holds records of 3,073 bytes, got {raw.size} bytes"
        )
    records = raw.reshape(-1, 3073)
    labels = records[:, 0].astype(np.int64)
    _check_labels(labels, len(CIFAR10_CLASSES), path, "CIFAR-10")
    return records[:, 1:], labels


def cifar10(path: str | Path | None, split: str = "train", *, download: bool = False) -> ImageSet:
    """CIFAR-10 from its distribution files under ``path`` as N×3×32×32 floats in [0, 1].

    Reads either the python version (``cifar-10-batches-py/data_batch_1`` …, loaded with an
    unpickler that admits only arrays and lists, never arbitrary objects) or the binary version
    (``cifar-10-batches-bin/data_batch_1.bin`` …). ``path`` may be the batches folder itself or
    its parent. ``download=True`` fetches the python version with torchvision first.
    """
    check_choice(split, "split", tuple(CIFAR10_BATCHES))
    hint = "point it at cifar-10-batches-py or cifar-10-batches-bin (or pass download=True once)"
    if download:
        _download(path, split, "CIFAR-10", "CIFAR10")
    root = _existing_dir(path, "CIFAR-10's batches", hint)
    names = CIFAR10_BATCHES[split]
    for folder in (root, root / "cifar-10-batches-py", root / "cifar-10-batches-bin"):
        if all((folder / n).is_file() for n in names):
            parts = [_read_cifar_python_batch(folder / n) for n in names]
            break
        if all((folder / f"{n}.bin").is_file() for n in names):
            parts = [_read_cifar_binary_batch(folder / f"{n}.bin") for n in names]
            break
    else:
        raise FileNotFoundError(
            f"path: {root} has no CIFAR-10 {split} batches ({', '.join(names)}); {hint}"
        )
    data = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if len(data) == 0:
        raise ValueError(f"{folder}: the CIFAR-10 {split} batches hold no images")
    x = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()).float().div_(255)
    return ImageSet(x, torch.from_numpy(labels), CIFAR10_CLASSES, "cifar10", {"split": split})


# -------------------------------------------------------------------------------- image folder
def list_images(path: str | Path, *, recursive: bool = True, skip_bad: bool = False) -> list[Path]:
    """The image files under ``path`` in sorted order (hidden files and folders are ignored).

    A file without an image extension is an error unless ``skip_bad`` (then it is left out).
    """
    root = _existing_dir(path, "the images", "give the path of a folder of image files")
    pattern = root.rglob("*") if recursive else root.glob("*")
    files, others = [], []
    for f in sorted(pattern):
        rel = f.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not f.is_file():
            continue
        (files if f.suffix.lower() in IMAGE_EXTENSIONS else others).append(f)
    if others and not skip_bad:
        shown = ", ".join(str(o.relative_to(root)) for o in others[:5])
        raise ValueError(
            f"path: {root} holds {len(others)} file(s) that are not images ({shown}); "
            "remove them or pass skip_bad=True"
        )
    if not files:
        raise ValueError(
            f"path: {root} holds no image files ({', '.join(IMAGE_EXTENSIONS)}); "
            "check the path (and recursive=True for nested folders)"
        )
    return files


def image_folder(
    path: str | Path,
    *,
    size: int | tuple[int, int] | None = None,
    mode: str = "RGB",
    recursive: bool = True,
    skip_bad: bool = False,
    crop: bool = False,
) -> ImageSet:
    """All images under a folder as N×C×H×W floats in [0, 1], in sorted path order.

    Images are decoded with Pillow and converted to ``mode`` (``"RGB"`` or ``"L"``). With
    ``size`` every image is resized with Pillow's bicubic filter (antialiased) to size×size (or
    (height, width)); without it all images must already share one size. With ``crop=True`` each
    image is first centre-cropped to the aspect ratio of ``size`` (the largest centred box), so
    resizing does not stretch it (Pillow's ``ImageOps.fit``). When every image sits in
    a first-level subfolder (torchvision's ImageFolder layout) the subfolder names become the
    classes and labels are returned. A file that is not an image or fails to decode is an error
    naming it, unless ``skip_bad=True``.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    check_choice(mode, "mode", ("RGB", "L"))
    if crop and size is None:
        raise ValueError("crop: centre-cropping needs a target size; pass size=... as well")
    if size is not None:
        hw = (size, size) if isinstance(size, int) else tuple(size)
        if len(hw) != 2 or min(hw) < 1:
            raise ValueError(f"size: expected a positive int or (height, width), got {size!r}")
    files = list_images(path, recursive=recursive, skip_bad=skip_bad)
    root = Path(path).expanduser()
    arrays, kept = [], []
    for f in files:
        try:
            with Image.open(f) as im:
                im = im.convert(mode)
                if size is not None and crop:
                    im = ImageOps.fit(im, (hw[1], hw[0]), Image.Resampling.BICUBIC)
                elif size is not None:
                    im = im.resize((hw[1], hw[0]), Image.Resampling.BICUBIC)
                arrays.append(np.asarray(im, dtype=np.uint8))
                kept.append(f)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            if skip_bad:
                continue
            raise ValueError(
                f"path: cannot decode {f} as an image ({exc}); remove it or pass skip_bad=True"
            ) from exc
    if not arrays:
        raise ValueError(f"path: no file under {root} could be decoded as an image")
    shapes = {a.shape[:2] for a in arrays}
    if len(shapes) > 1:
        raise ValueError(
            f"path: the images have {len(shapes)} different sizes (e.g. {sorted(shapes)[:3]}); "
            "pass size=... to resize them to one"
        )
    stacked = np.stack(arrays)
    if stacked.ndim == 3:
        stacked = stacked[..., None]
    x = torch.from_numpy(stacked).permute(0, 3, 1, 2).float().div_(255).contiguous()

    parents = [f.relative_to(root).parts for f in kept]
    labels, classes = None, ()
    if all(len(p) == 2 for p in parents):
        classes = tuple(sorted({p[0] for p in parents}))
        labels = torch.tensor([classes.index(p[0]) for p in parents], dtype=torch.int64)
    info = {"files": [str(f) for f in kept]}
    return ImageSet(x, labels, classes, root.name, info)

"""Loaders for real data on disk, tested on tiny files written here in the real formats."""

from __future__ import annotations

import gzip
import os
import pickle
import struct

import numpy as np
import pytest
import torch
from PIL import Image

import lib.datasets as datasets
from lib.datasets.files import CIFAR10_BATCHES, MNIST_FILES


def _write_idx(path, array: np.ndarray, *, gz: bool = False) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">i", d) for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if gz else payload)


def _mnist_files(folder, n=12, *, gz=False, split="train"):
    rng = np.random.RandomState(0)
    images = rng.randint(0, 256, size=(n, 28, 28)).astype(np.uint8)
    labels = rng.randint(0, 10, size=n).astype(np.uint8)
    stems = MNIST_FILES[split]
    suffix = ".gz" if gz else ""
    folder.mkdir(parents=True, exist_ok=True)
    _write_idx(folder / (stems[0] + suffix), images, gz=gz)
    _write_idx(folder / (stems[1] + suffix), labels, gz=gz)
    return images, labels


# ------------------------------------------------------------------------------------------ MNIST
@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("layout", [".", "MNIST/raw"])
def test_mnist_reads_idx_files(tmp_path, gz, layout):
    images, labels = _mnist_files(tmp_path / layout, gz=gz, split="test")
    s = datasets.mnist(tmp_path, split="test")
    assert s.images.shape == (12, 1, 28, 28) and s.images.dtype == torch.float32
    np.testing.assert_array_equal((s.images[:, 0] * 255).round().byte().numpy(), images)
    np.testing.assert_array_equal(s.labels.numpy(), labels)
    assert s.class_names == tuple("0123456789")


def test_mnist_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.mnist(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="path: give the folder"):
        datasets.mnist(None)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        datasets.mnist(tmp_path)
    with pytest.raises(ValueError, match="split: unknown value 'val'"):
        datasets.mnist(tmp_path, split="val")
    _mnist_files(tmp_path)
    image_file = tmp_path / MNIST_FILES["train"][0]
    image_file.write_bytes(image_file.read_bytes()[:-10])  # truncated download
    with pytest.raises(ValueError, match="truncated or corrupt"):
        datasets.mnist(tmp_path)
    image_file.write_bytes(b"PK\x03\x04 not idx at all")
    with pytest.raises(ValueError, match="bad magic number"):
        datasets.mnist(tmp_path)
    bad_gz = tmp_path / "gz"
    bad_gz.mkdir()
    _mnist_files(bad_gz, gz=True)
    gz_file = bad_gz / (MNIST_FILES["train"][0] + ".gz")
    gz_file.write_bytes(gz_file.read_bytes()[:30])
    with pytest.raises(ValueError, match="corrupt gzip"):
        datasets.mnist(bad_gz)


def test_mnist_mismatched_images_and_labels(tmp_path):
    _write_idx(tmp_path / MNIST_FILES["train"][0], np.zeros((5, 28, 28), np.uint8))
    _write_idx(tmp_path / MNIST_FILES["train"][1], np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="do not form an MNIST split"):
        datasets.mnist(tmp_path)


def test_mnist_refuses_labels_outside_its_ten_classes(tmp_path):
    _mnist_files(tmp_path)
    label_file = tmp_path / MNIST_FILES["train"][1]
    labels = np.arange(12, dtype=np.uint8) % 10
    labels[3] = 200
    _write_idx(label_file, labels)
    with pytest.raises(ValueError, match=r"train-labels-idx1-ubyte: MNIST labels must be 0\.\.9"):
        datasets.mnist(tmp_path)
    with pytest.raises(ValueError, match=r"1 of 12 are not \(e\.g\. 200\)"):
        datasets.mnist(tmp_path)


def test_mnist_refuses_images_of_another_shape(tmp_path):
    _mnist_files(tmp_path)
    _write_idx(tmp_path / MNIST_FILES["train"][0], np.zeros((12, 32, 32), np.uint8))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: MNIST images are N×28×28"):
        datasets.mnist(tmp_path)
    _write_idx(tmp_path / MNIST_FILES["train"][0], np.zeros((12, 784), np.uint8))
    with pytest.raises(ValueError, match="not an MNIST image file"):
        datasets.mnist(tmp_path)
    _mnist_files(tmp_path)
    _write_idx(tmp_path / MNIST_FILES["train"][1], np.zeros((12, 1), np.uint8))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte: MNIST labels are one byte"):
        datasets.mnist(tmp_path)


# --------------------------------------------------------------------------------------- CIFAR-10
def _cifar_batch(n, seed):
    rng = np.random.RandomState(seed)
    return rng.randint(0, 256, size=(n, 3072)).astype(np.uint8), rng.randint(0, 10, size=n)


def _write_cifar_python(folder, split="test", n=6):
    folder.mkdir(parents=True, exist_ok=True)
    everything = []
    for k, name in enumerate(CIFAR10_BATCHES[split]):
        data, labels = _cifar_batch(n, k)
        # The original batches are Python 2 pickles of dicts with bytes keys (protocol 2).
        batch = {b"batch_label": b"testing batch", b"labels": labels.tolist(), b"data": data}
        with open(folder / name, "wb") as fh:
            pickle.dump(batch, fh, protocol=2)
        everything.append((data, labels))
    return everything


def _write_cifar_binary(folder, split="train", n=4):
    folder.mkdir(parents=True, exist_ok=True)
    everything = []
    for k, name in enumerate(CIFAR10_BATCHES[split]):
        data, labels = _cifar_batch(n, 10 + k)
        records = np.concatenate([labels[:, None].astype(np.uint8), data], axis=1)
        records.tofile(folder / f"{name}.bin")
        everything.append((data, labels))
    return everything


def test_cifar10_python_batches(tmp_path):
    written = _write_cifar_python(tmp_path / "cifar-10-batches-py", "test")
    s = datasets.cifar10(tmp_path, split="test")
    data, labels = written[0]
    assert s.images.shape == (6, 3, 32, 32)
    np.testing.assert_array_equal((s.images * 255).round().byte().numpy().reshape(6, -1), data)
    np.testing.assert_array_equal(s.labels.numpy(), labels)
    assert s.class_names[0] == "airplane"
    # The batches folder itself works as the path too.
    assert len(datasets.cifar10(tmp_path / "cifar-10-batches-py", split="test")) == 6


def test_cifar10_binary_batches(tmp_path):
    written = _write_cifar_binary(tmp_path / "cifar-10-batches-bin", "train")
    s = datasets.cifar10(tmp_path, split="train")
    assert len(s) == 5 * 4
    np.testing.assert_array_equal(s.labels.numpy(), np.concatenate([w[1] for w in written]))
    first = (s.images[0] * 255).round().byte().numpy().reshape(-1)
    np.testing.assert_array_equal(first, written[0][0][0])


class _Exploit:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_cifar10_refuses_pickled_objects(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": _Exploit(), b"labels": [0]}, fh, protocol=2)
    with pytest.raises(ValueError, match="refusing to load"):
        datasets.cifar10(tmp_path, split="test")


def test_cifar10_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no CIFAR-10 train batches"):
        datasets.cifar10(tmp_path)
    with pytest.raises(ValueError, match="split: unknown value 'valid'"):
        datasets.cifar10(tmp_path, split="valid")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.cifar10(tmp_path / "missing")
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(b"\x00" * 3000)
    with pytest.raises(ValueError, match="records of 3,073 bytes"):
        datasets.cifar10(tmp_path, split="test")
    py = tmp_path / "py"
    py.mkdir()
    (py / "test_batch").write_bytes(b"this is not a pickle")
    with pytest.raises(ValueError, match="not a CIFAR-10 python batch"):
        datasets.cifar10(py, split="test")


def test_cifar10_refuses_labels_outside_its_ten_classes(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    _write_cifar_binary(folder, "test")
    record = np.fromfile(folder / "test_batch.bin", dtype=np.uint8).reshape(-1, 3073)
    record[2, 0] = 57  # a CIFAR-100 fine label, say
    record.tofile(folder / "test_batch.bin")
    with pytest.raises(ValueError, match=r"test_batch\.bin: CIFAR-10 labels must be 0\.\.9"):
        datasets.cifar10(tmp_path, split="test")
    py = tmp_path / "py"
    _write_cifar_python(py, "test")
    data, _ = _cifar_batch(6, 0)
    for labels, match in (
        ([0, 1, 2, 3, 4, 10], r"test_batch: CIFAR-10 labels must be 0\.\.9"),
        ([0, 1, -1, 3, 4, 5], r"e\.g\. -1"),
        ([0.0, 1.5, 2.0, 3.0, 4.0, 5.0], "labels are a list of integers"),
    ):
        with open(py / "test_batch", "wb") as fh:
            pickle.dump({b"labels": labels, b"data": data}, fh, protocol=2)
        with pytest.raises(ValueError, match=match):
            datasets.cifar10(py, split="test")


def test_cifar10_refuses_data_that_are_not_32x32_colour_bytes(tmp_path):
    py = tmp_path / "cifar-10-batches-py"
    _write_cifar_python(py, "test")
    labels = [0, 1, 2, 3, 4, 5]
    for data, match in (
        (np.zeros((6, 1024), np.uint8), r"test_batch: expected data of shape N×3072"),
        (np.full((6, 3072), 300, np.int64), "pixels are bytes 0..255"),
        (np.full((6, 3072), 0.5), "pixels are bytes 0..255"),
    ):
        with open(py / "test_batch", "wb") as fh:
            pickle.dump({b"labels": labels, b"data": data}, fh, protocol=2)
        with pytest.raises(ValueError, match=match):
            datasets.cifar10(tmp_path, split="test")


# ----------------------------------------------------------------------------------- image folder
def _save(path, array, fmt=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, format=fmt)


def test_image_folder_with_class_subfolders(tmp_path):
    rng = np.random.RandomState(1)
    arrays = {}
    for cls in ("cats", "dogs"):
        for i in range(3):
            a = rng.randint(0, 256, size=(10, 12, 3)).astype(np.uint8)
            _save(tmp_path / cls / f"{i}.png", a)
            arrays[(cls, i)] = a
    s = datasets.image_folder(tmp_path)
    assert s.images.shape == (6, 3, 10, 12)
    assert s.class_names == ("cats", "dogs")
    assert s.labels.tolist() == [0, 0, 0, 1, 1, 1]
    np.testing.assert_array_equal(
        (s.images[4] * 255).round().byte().permute(1, 2, 0).numpy(), arrays[("dogs", 1)]
    )


def test_image_folder_flat_resize_and_grey(tmp_path):
    rng = np.random.RandomState(2)
    _save(tmp_path / "a.png", rng.randint(0, 256, size=(20, 30, 3)).astype(np.uint8))
    _save(tmp_path / "b.jpg", rng.randint(0, 256, size=(40, 40, 3)).astype(np.uint8))
    (tmp_path / ".DS_Store").write_bytes(b"\x00junk")  # hidden files are ignored
    with pytest.raises(ValueError, match="different sizes.*size="):
        datasets.image_folder(tmp_path)
    s = datasets.image_folder(tmp_path, size=16)
    assert s.images.shape == (2, 3, 16, 16) and s.labels is None
    grey = datasets.image_folder(tmp_path, size=(8, 10), mode="L")
    assert grey.images.shape == (2, 1, 8, 10)


def test_image_folder_bad_files(tmp_path):
    rng = np.random.RandomState(3)
    _save(tmp_path / "good.png", rng.randint(0, 256, size=(8, 8, 3)).astype(np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    with pytest.raises(ValueError, match=r"not images \(notes.txt\).*skip_bad=True"):
        datasets.image_folder(tmp_path)
    (tmp_path / "notes.txt").unlink()
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(ValueError, match="cannot decode .*broken.png"):
        datasets.image_folder(tmp_path)
    s = datasets.image_folder(tmp_path, skip_bad=True)
    assert len(s) == 1 and s.info["files"][0].endswith("good.png")


def test_image_folder_missing_or_empty(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="holds no image files"):
        datasets.image_folder(tmp_path)
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        datasets.image_folder(tmp_path / "file.png")
    with pytest.raises(ValueError, match="mode"):
        datasets.image_folder(tmp_path, mode="CMYK")

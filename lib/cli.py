"""Command line: metrics of your own generator's images, and the bars of the course's models.

    python -m lib metrics REAL FAKE [--features NAME] [--metrics fid,kid,is,...]
                                    [--device auto] [--batch-size 64] [--size PX] [--json OUT]
    python -m lib models [NAME ...] [--json] [--device cpu]

``models`` loads the committed trained models and measures their bars on held-out data
(:mod:`lib.evaluation.model_bars`); it exits with status 1 when a bar fails.

REAL and FAKE are folders of images (PNG, JPEG, …; loaded with ``lib.datasets.image_folder``) or
saved tensors: ``.pt`` (loaded with ``weights_only=True``), ``.npy`` or ``.npz`` (loaded with
``allow_pickle=False``) holding an N×C×H×W (or N×H×W×C) array, uint8 in 0..255 or float in
[0, 1]. Features come from a network of :mod:`lib.features`; the REAL set's features are cached
(``data/cache/`` by default), keyed by the content of REAL and the network and settings, so
evaluating many FAKE sets against one REAL set extracts the reference once.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import torch

from lib import __version__, features, metrics
from lib._checks import ArrayLike
from lib._io import atomic_write, load_state_dict, sha256_file
from lib.datasets import image_folder, list_images
from lib.evaluation import model_bars
from lib.features.base import FeatureExtractor
from lib.paths import DATA_DIR

METRICS = {
    "fid": "Fréchet distance between Gaussian fits of the features (lower is better)",
    "kid": "kernel inception distance, unbiased MMD² with a cubic kernel (lower is better)",
    "is": "Inception Score of FAKE through the network's classifier (higher is better)",
    "mis": "modified Inception Score of FAKE, per-class diversity (higher is better)",
    "pr": "precision (fidelity) and recall (coverage), k = 3 (higher is better)",
    "dc": "density and coverage, k = 5 (higher is better)",
    "swd": "sliced Wasserstein distance on Laplacian-pyramid patches, ×1e3 (lower is better)",
}
DEFAULT_CACHE = DATA_DIR / "cache"


# --------------------------------------------------------------------------------------- inputs
def content_digest(path: Path) -> str:
    """sha256 naming an input's content: the file's, or the folder's files' (names and bytes)."""
    if path.is_dir():
        digest = hashlib.sha256()
        for f in list_images(path):
            digest.update(str(f.relative_to(path)).encode() + b"\0" + sha256_file(f).encode())
        return digest.hexdigest()
    return sha256_file(path)


def _array_to_images(array: ArrayLike, source: Path) -> torch.Tensor:
    x = torch.as_tensor(array)
    if x.ndim == 4 and x.shape[1] not in (1, 3) and x.shape[-1] in (1, 3):
        x = x.permute(0, 3, 1, 2)  # channels-last, as numpy image stacks usually are
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(
            f"{source}: expected an N×C×H×W (or N×H×W×C) array with 1 or 3 channels, got shape "
            f"{tuple(x.shape)}"
        )
    if x.dtype == torch.uint8:
        return x.float().div_(255)
    if not x.is_floating_point():
        raise ValueError(f"{source}: expected uint8 (0..255) or float [0, 1] values, got {x.dtype}")
    x = x.float()
    if not bool(torch.isfinite(x).all()) or float(x.min()) < 0 or float(x.max()) > 1:
        raise ValueError(f"{source}: float images must be finite and lie in [0, 1]")
    return x.contiguous()


def load_images(path: str | Path, *, size: int | None = None) -> torch.Tensor:
    """Images from a folder or a saved tensor, as float N×C×H×W in [0, 1]."""
    path = Path(path).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if path.is_dir():
        images = image_folder(path, size=size).images
    elif path.suffix == ".pt":
        try:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
        except Exception:  # not a bare tensor: maybe a dict of tensors
            loaded = load_state_dict(path)
        if isinstance(loaded, dict):
            if len(loaded) != 1 and "images" not in loaded:
                raise ValueError(
                    f"{path}: holds {sorted(loaded)}; save one tensor or an 'images' key"
                )
            loaded = loaded.get("images", next(iter(loaded.values())))
        images = _array_to_images(loaded, path)
    elif path.suffix in (".npy", ".npz"):
        try:
            loaded = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(
                f"{path}: cannot be loaded without unpickling objects ({exc})"
            ) from exc
        if isinstance(loaded, np.lib.npyio.NpzFile):
            keys = loaded.files
            if "images" not in keys and len(keys) != 1:
                raise ValueError(f"{path}: holds arrays {keys}; keep one array or name it 'images'")
            loaded = loaded["images" if "images" in keys else keys[0]]
        images = _array_to_images(loaded, path)
    else:
        raise ValueError(f"{path}: expected a folder of images or a .pt, .npy or .npz file")
    if size is not None and images.shape[-2:] != (size, size):
        images = torch.nn.functional.interpolate(
            images, size=(size, size), mode="bicubic", antialias=True, align_corners=False
        ).clamp_(0, 1)
    return images


# ----------------------------------------------------------------------------------- features
def extract_with_progress(
    net: FeatureExtractor,
    images: torch.Tensor,
    taps: Sequence[str],
    batch_size: int,
    desc: str,
    quiet: bool,
) -> dict[str, torch.Tensor]:
    from tqdm.auto import tqdm

    parts: dict[str, list[torch.Tensor]] = {tap: [] for tap in taps}
    starts = range(0, images.shape[0], batch_size)
    for start in tqdm(starts, desc=desc, unit="batch", disable=quiet, file=sys.stderr):
        out = net.extract(images[start : start + batch_size], taps, batch_size=batch_size)
        for tap in taps:
            parts[tap].append(out[tap].cpu())
    return {tap: torch.cat(chunks) for tap, chunks in parts.items()}


def cached_features(
    net: FeatureExtractor,
    path: Path,
    images: torch.Tensor,
    taps: Sequence[str],
    settings: dict[str, object],
    args: argparse.Namespace,
) -> dict[str, torch.Tensor]:
    """The REAL set's features, from the cache when the same content and settings were seen."""
    key_text = json.dumps(
        {
            "content": content_digest(path),
            "network": net.name,
            "weights": net.weights_description(),
            "taps": sorted(taps),
            "lib": __version__,
            **settings,
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_text.encode()).hexdigest()[:32]
    cache_file = Path(args.cache_dir) / f"features-{key}.npz"
    if not args.no_cache and cache_file.is_file():
        with np.load(cache_file, allow_pickle=False) as stored:
            if all(tap in stored.files for tap in taps):
                return {tap: torch.from_numpy(stored[tap]) for tap in taps}
    feats = extract_with_progress(net, images, taps, args.batch_size, "REAL features", args.quiet)
    if not args.no_cache:
        buffer = io.BytesIO()
        # Explicit so that no tap name can be read as the keyword; features are never objects.
        np.savez(buffer, allow_pickle=False, **{tap: f.numpy() for tap, f in feats.items()})
        atomic_write(cache_file, lambda fh: fh.write(buffer.getvalue()))
    return feats


# ------------------------------------------------------------------------------------ metrics
def compute_metrics(
    real_images: torch.Tensor,
    fake_images: torch.Tensor,
    real: Mapping[str, torch.Tensor],
    fake: Mapping[str, torch.Tensor],
    names: Sequence[str],
    net: FeatureExtractor,
) -> dict[str, object]:
    results: dict[str, object] = {}
    for name in names:
        if name == "fid":
            results["fid"] = metrics.fid(real["features"], fake["features"])
        elif name == "kid":
            m = min(1000, len(real["features"]), len(fake["features"]))
            mean, std = metrics.kid(real["features"], fake["features"], subset_size=m)
            results["kid"] = {"mean": mean, "std": std, "subset_size": m}
        elif name == "is":
            mean, std = metrics.inception_score(fake["logits"], inputs="logits")
            results["is"] = {"mean": mean, "std": std}
        elif name == "mis":
            mean, std = metrics.modified_inception_score(fake["logits"], inputs="logits")
            results["mis"] = {"mean": mean, "std": std}
        elif name == "pr":
            results["pr"] = metrics.precision_recall(real["features"], fake["features"])._asdict()
        elif name == "dc":
            results["dc"] = metrics.density_coverage(real["features"], fake["features"])._asdict()
        elif name == "swd":
            result = metrics.swd(real_images, fake_images)
            results["swd"] = {"mean": result.mean, "per_level": list(result.per_level)}
    return results


def _format(value: object) -> str:
    if isinstance(value, dict):
        if "std" in value:
            return f"{value['mean']:.6g} ± {value['std']:.3g}"
        return ", ".join(f"{k} {v:.4g}" for k, v in value.items() if isinstance(v, int | float))
    return f"{value:.6g}"


def metrics_command(args: argparse.Namespace) -> int:
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    unknown = [m for m in names if m not in METRICS]
    if unknown or not names:
        raise SystemExit(f"--metrics: unknown {unknown or names}; choose from {', '.join(METRICS)}")
    start = time.perf_counter()
    net = features.get(args.features, device=args.device)
    needs_logits = bool({"is", "mis"} & set(names))
    taps = [net.default_tap]
    if needs_logits:
        if net.logits_tap is None:
            raise SystemExit(f"--features {args.features} has no classifier head, so no IS/m-IS")
        taps.append(net.logits_tap)
    real_path, fake_path = Path(args.real).expanduser(), Path(args.fake).expanduser()
    real_images = load_images(real_path, size=args.size)
    fake_images = load_images(fake_path, size=args.size)
    settings = {"size": args.size, "shape": list(real_images.shape)}
    real = cached_features(net, real_path, real_images, [net.default_tap], settings, args)
    fake = extract_with_progress(
        net, fake_images, taps, args.batch_size, "FAKE features", args.quiet
    )
    rename = {net.default_tap: "features", net.logits_tap: "logits"}
    real = {rename[k]: v.double() for k, v in real.items()}
    fake = {rename[k]: v.double() for k, v in fake.items()}
    results = compute_metrics(real_images, fake_images, real, fake, names, net)
    report = {
        "real": str(real_path),
        "fake": str(fake_path),
        "n_real": real_images.shape[0],
        "n_fake": fake_images.shape[0],
        "features": args.features,
        "weights": net.weights_description(),
        "device": str(net.device),
        "metrics": results,
        "seconds": round(time.perf_counter() - start, 2),
    }
    for name, value in results.items():
        print(f"{name:>4}  {_format(value)}")
    if args.json:
        text = json.dumps(report, indent=2) + "\n"
        atomic_write(Path(args.json), lambda fh: fh.write(text), mode="w")
    return 0


def models_command(args: argparse.Namespace) -> int:
    report = model_bars.model_bars(args.names or None, device=args.device)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for name, result in report["models"].items():
            print(name)
            for bar, value in result["bars"].items():
                sd = "" if value["sd"] is None else f" ± {value['sd']:.3f}"
                verdict = {True: "holds", False: "FAILS", None: ""}[value["holds"]]
                print(
                    f"  {bar:<30} {value['value']:.3f}{sd:<10} (bar {value['threshold']}) {verdict}"
                )
    failing = model_bars.failing_bars(report)
    if failing:
        print("failing bars: " + ", ".join(failing), file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lib", description="GAN evaluation metrics.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "metrics",
        help="metrics of FAKE images against REAL images",
        description="\n".join(f"  {k:<4} {v}" for k, v in METRICS.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("real", help="folder of images, or .pt/.npy/.npz tensor file (the reference)")
    p.add_argument("fake", help="folder of images, or .pt/.npy/.npz tensor file (to evaluate)")
    p.add_argument("--features", default="inception-fid", help="a network of lib.features")
    p.add_argument("--metrics", default="fid,kid", help=f"comma-separated: {','.join(METRICS)}")
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--size", type=int, default=None, help="resize images to SIZE×SIZE first")
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    p.add_argument("--cache-dir", default=str(DEFAULT_CACHE))
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(run=metrics_command)
    m = sub.add_parser(
        "models",
        help="the bars of the committed trained models, measured on held-out data",
        description=(model_bars.__doc__ or "").split("\n\n")[0],
    )
    m.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"models to measure (default all: {', '.join(model_bars.MODELS)})",
    )
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.add_argument("--device", default="cpu")
    m.set_defaults(run=models_command, batch_size=1)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.batch_size < 1:
        raise SystemExit("--batch-size: must be at least 1")
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError, NotImplementedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

"""The whole path from two folders of small PNG images to FID: decode, resize to 299, Inception
features, statistics, Fréchet distance — lib against each peer's own folder entry point.

Every implementation builds its network inside the timed call (the same random state dict,
see ``_inception``) and runs single-process (no data-loader workers), so the clock covers what
a user waits for. torchmetrics has no folder entry point and is not in this comparison.

The resizes differ by design, so the FIDs differ too: lib and torch-fidelity resize with
TensorFlow 1.x's bilinear rule (the original FID code), pytorch-fid with torch's bilinear
interpolation (half-pixel centres), clean-fid with Pillow's antialiased bicubic.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from benchmarks import _inception
from benchmarks._common import Config, result
from benchmarks._timing import interleaved, rel_diff
from lib import metrics
from lib.datasets import image_folder, shapes

NAME = "folder_fid"


def write_folder(folder: Path, n: int, seed: int) -> Path:
    """n procedural 32×32 RGB images (the course's shapes) as PNG files."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    if len(list(folder.glob("*.png"))) == n:
        return folder
    imgs = (shapes(n, seed=seed).images * 255).round().clamp(0, 255).to(torch.uint8)
    for i, img in enumerate(imgs.permute(0, 2, 3, 1).numpy()):
        Image.fromarray(np.ascontiguousarray(img)).save(folder / f"{i:05d}.png")
    return folder


def run(cfg: Config) -> dict:
    per_folder = 4 if cfg.tiny else (500 if cfg.cuda else 16)
    batch = 50 if not cfg.tiny else 4
    root = cfg.scratch() / f"folders-{per_folder}"
    real = write_folder(root / "real", per_folder, seed=1)
    fake = write_folder(root / "fake", per_folder, seed=2)
    path = _inception.weights_file(cfg.scratch() / "weights")
    device = cfg.device

    def lib_fid():
        net = _inception.lib_net(path, device)
        a = net.features(image_folder(real).images, batch_size=batch)
        b = net.features(image_folder(fake).images, batch_size=batch)
        return metrics.fid(a, b)

    def pytorch_fid():
        import pytorch_fid.fid_score as pfs
        import pytorch_fid.inception as pfi

        with _inception._offline(pfi, _state_dict()):
            return float(
                pfs.calculate_fid_given_paths(
                    [str(real), str(fake)], batch, str(device), 2048, num_workers=0
                )
            )

    def torch_fidelity():
        import torch_fidelity as tfid

        out = tfid.calculate_metrics(
            input1=str(real),
            input2=str(fake),
            fid=True,
            cuda=device.type == "cuda",
            batch_size=batch,
            feature_extractor_weights_path=str(path),
            cache=False,
            verbose=False,
        )
        return float(out["frechet_inception_distance"])

    def clean_fid():
        from cleanfid import fid as cfid

        model_fn = _inception.clean_fid_model_fn(device)
        return float(
            cfid.compute_fid(
                str(real),
                str(fake),
                mode="clean",
                custom_feat_extractor=model_fn,
                num_workers=0,
                batch_size=batch,
                device=device,
                verbose=False,
            )
        )

    fns = {
        "lib": lib_fid,
        "pytorch-fid": pytorch_fid,
        "torch-fidelity": torch_fidelity,
        "clean-fid": clean_fid,
    }
    reps = cfg.reps if cfg.cuda else 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # N < 2048: singular covariances, warned by lib and peers
        times, values = interleaved(fns, reps, device=device, warmup=False)
    agreement = {k: rel_diff(values["lib"], v) for k, v in values.items() if k != "lib"}
    notes = {
        "lib": "lib.datasets.image_folder → InceptionFID.features → metrics.fid (TF1 bilinear)",
        "pytorch-fid": "fid_score.calculate_fid_given_paths (torch bilinear)",
        "torch-fidelity": "calculate_metrics(fid=True) (TF1 bilinear)",
        "clean-fid": "fid.compute_fid(mode='clean'), its legacy_pytorch network (PIL bicubic)",
    }
    out = result(
        NAME,
        f"image folders → FID, 2 × {per_folder} PNG images 32×32",
        {
            "images_per_folder": per_folder,
            "size": 32,
            "batch_size": batch,
            "fid_values": values,
        },
        times,
        agreement=agreement,
        agreement_label="relative FID difference (resizes differ by design)",
        units={k: 2 * per_folder for k in fns},
        unit_label="images/s",
        notes=notes,
    )
    return out


def _state_dict():
    from lib.features.inception import random_state_dict

    return random_state_dict(seed=_inception.SEED)

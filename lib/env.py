"""An environment report: what a bug report or a benchmark needs to say about the machine."""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata

import torch

PACKAGES = (
    "torch",
    "torchvision",
    "numpy",
    "scipy",
    "scikit-learn",
    "scikit-image",
    "opencv-python-headless",
    "matplotlib",
    "seaborn",
    "jupyterlab",
    "papermill",
    "nbval",
    "ipywidgets",
)


def environment_report() -> dict:
    """Versions of Python and the course stack, the compute device and the CPU threads in use."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    cuda = torch.cuda.is_available()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "executable": sys.executable,
        "packages": versions,
        "cuda_available": cuda,
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        if cuda
        else [],
        "torch_cuda_build": torch.version.cuda,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }


def format_report(report: dict | None = None) -> str:
    """The report as aligned text lines."""
    report = environment_report() if report is None else report
    lines = [f"{'python':<28}{report['python']}  ({report['platform']})"]
    lines += [f"{name:<28}{version}" for name, version in report["packages"].items()]
    gpus = ", ".join(report["cuda_devices"]) or "none"
    lines.append(f"{'CUDA available':<28}{report['cuda_available']}  (GPUs: {gpus})")
    lines.append(
        f"{'CPU cores / torch threads':<28}{report['cpu_count']} / {report['torch_threads']}"
    )
    return "\n".join(lines)

"""What every comparison shares: the run configuration and the shape of a result."""

from __future__ import annotations

import dataclasses
import os
import platform
import tempfile
from pathlib import Path

import torch

from benchmarks._timing import speedup, summary


@dataclasses.dataclass
class Config:
    """One run: where it runs, how big, how often.

    ``size`` is ``"full"`` (the sizes of the README table) or ``"tiny"`` (seconds; for the tests
    and for a dry run of the code paths). ``reps`` is the number of interleaved rounds; slow
    peers may sit out some (their ``reps`` say how many they ran).
    """

    device: torch.device
    size: str = "full"
    reps: int = 5
    seed: int = 0
    workdir: Path | None = None

    @property
    def tiny(self) -> bool:
        return self.size == "tiny"

    @property
    def cuda(self) -> bool:
        return self.device.type == "cuda"

    def scratch(self) -> Path:
        """A scratch folder for files (weights, image folders) that lives for the whole run."""
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="lib-bench-"))
        return self.workdir


def machine(device: torch.device) -> dict:
    """Plain facts about where a run happened (no host names)."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info = {
        "device": str(device),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    if device.type == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    try:
        info["load_average_at_start"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    return info


def result(
    name: str,
    title: str,
    setup: dict,
    times: dict[str, list[float]],
    *,
    lib: str = "lib",
    agreement: dict[str, float] | None = None,
    agreement_label: str = "relative difference",
    units: dict[str, float] | None = None,
    unit_label: str | None = None,
    notes: dict[str, str] | None = None,
) -> dict:
    """A comparison as JSON: each implementation's timing summary and, for each peer, lib's
    speed-up (per-round median and range) and the numerical agreement with lib.

    ``units``: work per call (e.g. images) to report a throughput ``per_s`` next to the time.
    """
    impls = {}
    for impl, seconds in times.items():
        entry = summary(seconds)
        if units is not None:
            entry["per_s"] = units[impl] / entry["median_s"] if entry["median_s"] > 0 else None
        if notes and impl in notes:
            entry["note"] = notes[impl]
        impls[impl] = entry
    peers = []
    for impl, seconds in times.items():
        if impl == lib or impl not in times or lib not in times:
            continue
        row = {"peer": impl, **speedup(times[lib], seconds)}
        if agreement is not None and impl in agreement:
            row["agreement"] = agreement[impl]
        peers.append(row)
    out = {
        "name": name,
        "title": title,
        "setup": setup,
        "lib": lib,
        "impls": impls,
        "peers": peers,
        "agreement_label": agreement_label,
        "targets": [],
    }
    if unit_label:
        out["unit_label"] = unit_label
    return out


def target(out: dict, text: str, met: bool, value: str) -> None:
    """Record one target of the issue with whether this run met it and the measured numbers."""
    out["targets"].append({"text": text, "met": bool(met), "measured": value})

"""Run the benchmarks of lib against the peer libraries and write the results.

    python -m benchmarks.run [--device cpu|cuda|auto] [--size full|tiny] [--reps N]
                             [--only NAME,...] [--out DIR]

Writes ``<out>/<device>.json`` (everything measured) and ``<out>/<device>.md`` (the table of the
README) atomically, and prints the table. ``--size tiny`` runs every code path on toy sizes in
seconds (the tests use it; so does a dry run of the CUDA comparisons on a machine without a GPU).
The exit status is 1 when a comparison failed to run (its error is in the JSON), else 0; a missed
speed target is reported, not an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import torch

from benchmarks import features, fid_statistic, folder_fid, is_kid, memory, sliced, ssim, training
from benchmarks._common import Config, machine
from benchmarks.report import markdown
from lib._io import atomic_write
from lib.device import resolve_device

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: Every comparison, in the order of the table.
COMPARISONS: dict[str, Callable[[Config], dict]] = {
    "fid_statistic": fid_statistic.run,
    "features": features.run,
    "folder_fid": folder_fid.run,
    "inception_score": is_kid.run_is,
    "kid": is_kid.run_kid,
    "ssim": ssim.run_ssim,
    "ms_ssim": ssim.run_ms_ssim,
    "sliced_wasserstein": sliced.run,
    "fid_memory": memory.run,
    "training": training.run,
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    p.add_argument("--device", default="cpu", help="cpu, cuda or auto (default: cpu)")
    p.add_argument("--size", default="full", choices=("full", "tiny"))
    p.add_argument("--reps", type=int, default=5, help="interleaved rounds (slow peers: fewer)")
    p.add_argument("--only", default=None, help=f"comma-separated: {','.join(COMPARISONS)}")
    p.add_argument("--out", default=str(RESULTS_DIR), help="folder for <device>.json and .md")
    p.add_argument("--name", default=None, help="file name stem instead of the device type")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--merge",
        action="store_true",
        help="replace only these comparisons in an existing <device>.json (each keeps the "
        "date of its own run)",
    )
    return p


def write(report: dict, out: Path, stem: str) -> str:
    """Write ``<stem>.json`` and ``<stem>.md`` atomically; returns the markdown."""
    text = markdown(report)
    body = json.dumps(report, indent=1) + "\n"
    atomic_write(out / f"{stem}.json", lambda h: h.write(body), mode="w")
    atomic_write(out / f"{stem}.md", lambda h: h.write(text), mode="w")
    return text


def _stem(args: argparse.Namespace, device: torch.device) -> str:
    return args.name or device.type


def run(args: argparse.Namespace) -> tuple[dict, int]:
    device = resolve_device(args.device)
    names = list(COMPARISONS) if args.only is None else [s.strip() for s in args.only.split(",")]
    unknown = [n for n in names if n not in COMPARISONS]
    if unknown:
        raise SystemExit(f"--only: unknown comparison(s) {unknown}; known: {list(COMPARISONS)}")
    if args.reps < 1:
        raise SystemExit("--reps: must be at least 1")
    cfg = Config(device=device, size=args.size, reps=args.reps, seed=args.seed)
    report = {
        "machine": machine(device),
        "size": args.size,
        "reps": args.reps,
        "started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "comparisons": [],
    }
    failures = 0
    start_all = time.perf_counter()
    for name in names:
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            entry = COMPARISONS[name](cfg)
        except Exception as exc:  # recorded, the other comparisons still run
            failures += 1
            entry = {"name": name, "error": f"{type(exc).__name__}: {exc}"}
            traceback.print_exc()
        entry["wall_s"] = time.perf_counter() - start
        report["comparisons"].append(entry)
        print(f"[bench] {name} done in {entry['wall_s']:.1f} s", file=sys.stderr, flush=True)
        # The files grow comparison by comparison, so an interrupted run still leaves its part.
        if not args.merge:
            report["wall_s"] = time.perf_counter() - start_all
            write(report, Path(args.out), _stem(args, device))
    report["wall_s"] = time.perf_counter() - start_all
    try:
        import os

        report["machine"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    return report, failures


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    previous = None
    if args.merge:
        stem = _stem(args, resolve_device(args.device))
        if (out / f"{stem}.json").is_file():
            previous = json.loads((out / f"{stem}.json").read_text())
    report, failures = run(args)
    stem = _stem(args, torch.device(report["machine"]["device"]))
    if previous is not None:
        fresh = {c["name"]: {**c, "run_started": report["started"]} for c in report["comparisons"]}
        kept = [fresh.pop(c["name"], c) for c in previous["comparisons"]]
        previous["comparisons"] = kept + list(fresh.values())
        previous.setdefault("merged_runs", []).append(report["started"])
        report = previous
    text = write(report, out, stem)
    print(text)
    print(f"results: {out / f'{stem}.json'}, {out / f'{stem}.md'}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    torch.set_grad_enabled(True)
    raise SystemExit(main())

"""The benchmark harness (benchmarks/) runs, on toy sizes, and writes valid results.

Speed is never asserted here (shared, noisy machines); these tests check that every comparison
runs through lib and the peers, that lib agrees with the peers where they compute the same
thing, and that the JSON and markdown files are written and well formed.
"""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("torch_fidelity")
pytest.importorskip("torchmetrics")
pytest.importorskip("pytorch_fid")
pytest.importorskip("cleanfid")
pytest.importorskip("pytorch_msssim")
pytest.importorskip("ot")

from benchmarks import run as bench_run  # noqa: E402
from benchmarks._common import Config  # noqa: E402
from benchmarks._timing import interleaved, speedup, summary  # noqa: E402
from benchmarks.report import markdown  # noqa: E402

CHEAP = "fid_statistic,inception_score,kid,ssim,ms_ssim,sliced_wasserstein,fid_memory"


def _check_comparison(entry: dict) -> None:
    assert "error" not in entry, entry.get("error")
    assert entry["name"] and entry["title"]
    for impl in entry["impls"].values():
        assert impl["reps"] >= 1 and 0 < impl["min_s"] <= impl["median_s"] <= impl["max_s"]
    for row in entry["peers"]:
        assert row["peer"] in entry["impls"]
        assert row["speedup_min"] <= row["speedup"] <= row["speedup_max"]
    for t in entry["targets"]:
        assert isinstance(t["met"], bool) and t["measured"]


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    code = bench_run.main(
        ["--size", "tiny", "--reps", "1", "--only", CHEAP, "--out", str(out), "--name", "tiny"]
    )
    return code, out


@pytest.mark.slow
def test_tiny_run_writes_valid_json_and_markdown(tiny_run):
    code, out = tiny_run
    assert code == 0
    report = json.loads((out / "tiny.json").read_text())
    assert report["size"] == "tiny" and report["machine"]["device"] == "cpu"
    names = [c["name"] for c in report["comparisons"]]
    assert names == CHEAP.split(",")
    for entry in report["comparisons"]:
        _check_comparison(entry)
    table = (out / "tiny.md").read_text()
    assert table.startswith("Measured on") and "| comparison | lib |" in table
    assert "Targets:" in table
    for peer in ("pytorch-fid", "clean-fid", "torch-fidelity", "torchmetrics", "POT"):
        assert f"| {peer} |" in table


def test_lib_agrees_with_the_peers_where_they_compute_the_same(tiny_run):
    _, out = tiny_run
    report = {c["name"]: c for c in json.loads((out / "tiny.json").read_text())["comparisons"]}
    agree = {
        (name, row["peer"]): row.get("agreement")
        for name, c in report.items()
        for row in c["peers"]
    }
    for peer in ("pytorch-fid", "clean-fid", "torch-fidelity", "torchmetrics"):
        assert agree[("fid_statistic", peer)] < 1e-6
    assert agree[("fid_statistic", "lib (cached reference)")] < 1e-12
    assert agree[("inception_score", "torch-fidelity")] < 1e-12
    assert agree[("kid", "torch-fidelity")] < 1e-9
    assert report["ssim"]["setup"]["lib_vs_scikit_image"] < 1e-5
    assert agree[("ms_ssim", "pytorch-msssim")] < 1e-5
    assert agree[("sliced_wasserstein", "POT")] < 1e-5
    memory = report["fid_memory"]["memory_mib"]
    assert memory["stacked N=5000"] > memory["stacked N=1000"]


@pytest.mark.slow
def test_inception_comparisons_run_tiny(tmp_path):
    """The two comparisons that run the Inception network (a few seconds each on 2 cores)."""
    code = bench_run.main(
        ["--size", "tiny", "--reps", "1", "--only", "features,folder_fid,training",
         "--out", str(tmp_path), "--name", "tiny"]
    )  # fmt: skip
    assert code == 0
    report = {c["name"]: c for c in json.loads((tmp_path / "tiny.json").read_text())["comparisons"]}
    _check_comparison(report["features"])
    _check_comparison(report["folder_fid"])
    for row in report["features"]["peers"]:
        assert row["agreement"] <= 1e-4  # same random weights, 299×299: the same function
    fid = report["folder_fid"]["setup"]["fid_values"]
    assert abs(fid["lib"] - fid["torch-fidelity"]) / fid["torch-fidelity"] < 1e-3
    assert set(report["training"]["impls"]) == {"CartoonGAN", "Everybody Dance Now", "vid2vid"}


def test_interleaving_rotates_and_caps_repetitions():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in ("a", "b", "c")}
    times, _ = interleaved(fns, 3, warmup=False, reps_of={"c": 1})
    assert calls == ["a", "b", "c", "b", "a", "a", "b"]
    assert [len(times[k]) for k in "abc"] == [3, 3, 1]


def test_summary_and_speedup():
    s = summary([1.0, 2.0, 4.0])
    assert s["median_s"] == 2.0 and s["spread"] == 1.5 and s["reps"] == 3
    r = speedup([1.0, 2.0, 1.0], [2.0, 2.0, 4.0])
    assert r["speedup"] == 2.0 and r["speedup_min"] == 1.0 and r["speedup_max"] == 4.0


def test_markdown_reports_failures_skips_and_targets():
    cfg = Config(device=torch.device("cpu"))
    report = {
        "machine": {"device": "cpu", "cpu": "test cpu", "torch_threads": 2, "torch": "x"},
        "size": "tiny",
        "reps": 1,
        "started": "now",
        "comparisons": [
            {"name": "broken", "error": "RuntimeError: boom"},
            {"name": "training", "title": "training", "skipped": "GPU only", "lib": None},
        ],
    }
    text = markdown(report)
    assert "failed: RuntimeError: boom" in text and "skipped (GPU only)" in text
    assert not cfg.tiny and not cfg.cuda


def test_unknown_comparison_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="unknown comparison"):
        bench_run.main(["--only", "nope", "--out", str(tmp_path)])

"""The markdown table of a benchmark run (the README shows the CPU one)."""

from __future__ import annotations


def _time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} µs"


def _agreement(value) -> str:
    return "—" if value is None else f"{value:.1e}"


def _speedup(row: dict) -> str:
    if row["peer"].startswith("lib"):  # a variant of lib: how much faster than lib's default
        inv = (1 / row["speedup"], 1 / row["speedup_max"], 1 / row["speedup_min"])
        return f"lib's variant {inv[0]:.2f}× faster ({inv[1]:.2f}–{inv[2]:.2f})"
    return f"{row['speedup']:.2f}× ({row['speedup_min']:.2f}–{row['speedup_max']:.2f})"


def markdown(report: dict) -> str:
    m = report["machine"]
    where = m.get("gpu") or f"{m['cpu']}, {m['torch_threads']} threads"
    load = m.get("load_average_at_start")
    lines = [
        f"Measured on {where} ({m['device']}), torch {m['torch']}, {report['started']}"
        + (f"; load average at start {load[0]}" if load else "")
        + f". Sizes: {report['size']}; interleaved rounds (×n: how many an implementation "
        "ran), median times; lib's speed-up is the median of the per-round ratios "
        "peer time ÷ lib time, with their range.",
        "",
        "| comparison | lib | peer | peer time | lib speed-up (range) | agreement |",
        "|---|---|---|---|---|---|",
    ]
    targets = []
    extra = []
    for c in report["comparisons"]:
        if c.get("run_started") and "title" in c:  # replaced by a later run (--merge)
            c = {**c, "title": f"{c['title']} (run {c['run_started']})"}
        if "error" in c:
            lines.append(f"| {c['name']} | failed: {c['error']} | | | | |")
            continue
        if c.get("skipped"):
            extra.append(f"- {c['title']}: skipped ({c['skipped']}).")
            continue
        if c["name"] == "fid_memory":
            mib = c["memory_mib"]
            extra.append(
                f"- {c['title']}: peak memory growth "
                + ", ".join(f"{k} {v:.0f} MiB" for k, v in mib.items())
                + "."
            )
            targets += c["targets"]
            continue
        if c.get("lib") is None:  # lib-only throughput (training)
            extra.append(
                f"- {c['title']}: "
                + ", ".join(
                    f"{k} {v['per_s']:.1f} {c.get('unit_label', '/s')}"
                    for k, v in c["impls"].items()
                )
                + "."
            )
            continue
        lib = c["impls"][c["lib"]]
        per = c.get("unit_label")

        def cell(entry: dict, per=per) -> str:
            text = _time(entry["median_s"]) + f" ×{entry['reps']}"
            if per and entry.get("per_s"):
                text += f" ({entry['per_s']:.1f} {per})"
            return text

        first = True
        for row in c["peers"]:
            peer = c["impls"][row["peer"]]
            lines.append(
                "| "
                + " | ".join(
                    [
                        c["title"] if first else "",
                        cell(lib) if first else "",
                        row["peer"],
                        cell(peer),
                        _speedup(row),
                        _agreement(row.get("agreement")),
                    ]
                )
                + " |"
            )
            first = False
        targets += c["targets"]
    lines.append("")
    lines.append(
        "Agreement: relative difference of the value to lib's (FID, IS, KID, SW), max feature "
        "difference relative to the largest feature (Inception), max per-image |Δ| (SSIM)."
    )
    if extra:
        lines += ["", *extra]
    if targets:
        lines += ["", "Targets:", ""]
        for t in targets:
            mark = "met" if t["met"] else "MISSED"
            lines.append(f"- **{mark}** — {t['text']}: {t['measured']}")
    return "\n".join(lines) + "\n"

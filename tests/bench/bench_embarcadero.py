"""Goodput of the real Embarcadero on the shipped e2e and stress scenarios, with 95 % bootstrap intervals.

Plain script, not collected by pytest (run it on an otherwise idle machine: the stress scenario holds about 11 GB
of shm and every core; never two at once):
    python tests/bench/bench_embarcadero.py BUILD_JSON [--config config/embarcadero.yaml]
        [--scenario e2e_10mb=5 --scenario stress_10gb=3]
BUILD_JSON is a `stallscope build` of the checkout (`snakemake --configfile=config/embarcadero.yaml build`).
Each scenario runs through the same runner as `stallscope run` (its trials interleaved with the other scenarios'),
and its delivered MB/s is the client's own figure (MB = 2^20, publish start to the last ACK). Prints every sample,
then per scenario the median with its 95 % percentile-bootstrap interval, the init time and peak memory, and the
machine it ran on.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from stallscope import schemas
from stallscope.experiment.config import load_config, resolve_scenario
from stallscope.experiment.embarcadero import execute
from stallscope.shared.provenance import host_facts
from stallscope.shared.trialstats import median_ci

_DELIVERED = re.compile(r"(?:Publish completed in [\d.]+ seconds, |Bandwidth: )([\d.]+) MB/s")
_INIT = re.compile(r"Initialization completed in ([\d.]+)s")


def one(scn: dict[str, Any], build: dict[str, Any], run_cfg: dict[str, Any], work: Path) -> dict[str, Any]:
    """One run: delivered MB/s (None when it failed), init seconds, peak memory, errors."""
    res = execute(work, scn, Path(build["bin_dir"]), Path(build["sut"]["source"]), run_cfg)
    text = (work / "client.log").read_text(errors="replace") if (work / "client.log").exists() else ""
    m, init = _DELIVERED.search(text), _INIT.search(text)
    ok = not res.errors and m is not None and "[ACK_VERIFY]" in text
    return {"mb_s": float(m.group(1)) if ok and m else None, "init_s": float(init.group(1)) if init else None,
            "peak_rss_kb": (res.adapter_record or {}).get("peak_rss_kb", {}), "errors": res.errors}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("build_json", type=Path)
    ap.add_argument("--config", type=Path, default=Path("config/embarcadero.yaml"))
    ap.add_argument("--scenario", action="append", default=[], metavar="NAME=REPEATS",
                    help="scenario and its repeats (default: e2e_10mb=5, stress_10gb=3)")
    a = ap.parse_args()
    cfg = load_config(a.config)
    build = schemas.read_json(a.build_json, "build")
    plan = [(s.split("=")[0], int(s.split("=")[1])) for s in a.scenario] or [("e2e_10mb", 5), ("stress_10gb", 3)]
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in plan}
    with tempfile.TemporaryDirectory(prefix="bench_embarcadero.") as tmp:
        for i in range(max(n for _, n in plan)):
            for name, n in plan:
                if i >= n:
                    continue
                r = one(resolve_scenario(cfg, name), build, cfg["run"], Path(tmp) / f"{name}-{i}")
                samples[name].append(r)
                print(f"{name} {i + 1}/{n}: {r['mb_s']} MB/s, init {r['init_s']} s"
                      + (f", errors: {'; '.join(r['errors'])}" if r["errors"] else ""), flush=True)
    host = host_facts()
    print(f"\nmachine: nproc={host['cores']} cpu={host['cpu_model']!r}; broker {build['sut']['id']}")
    status = 0
    for name, runs in samples.items():
        ok = [r["mb_s"] for r in runs if r["mb_s"] is not None]
        ci = median_ci(ok)
        peak = {}
        for r in runs:
            for proc, kb in r["peak_rss_kb"].items():
                peak[proc] = max(kb, peak.get(proc, 0))
        inits = [r["init_s"] for r in runs if r["init_s"] is not None]
        if not ok:
            print(f"{name}: no successful run of {len(runs)}")
            status = 1
            continue
        interval = "n/a" if ci.get("lo") is None else f"[{ci['lo']:.1f}, {ci['hi']:.1f}]"
        print(f"{name}: goodput median {ci['median']:.1f} MB/s, 95 % interval {interval}, {len(ok)} of {len(runs)} "
              f"runs completed; init median {statistics.median(inits) if inits else float('nan'):.2f} s; "
              "peak memory " + ", ".join(f"{p} {kb / 1024:,.0f} MB" for p, kb in sorted(peak.items())))
    return status


if __name__ == "__main__":
    sys.exit(main())

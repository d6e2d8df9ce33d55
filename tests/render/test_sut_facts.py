"""Page 1's facts from the SUT adapter: the build's measured time and the largest peak memory per process."""

from __future__ import annotations

import random

from stallscope.render.runfacts import sut_facts
from stallscope.render.viewmodel import resources_text


def test_sut_facts_take_the_largest_peak_per_process_and_each_build_once() -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    runs = [{"resources": {"peak_rss_kb": {"broker_0": rng.randrange(1, 10**7), "client": rng.randrange(1, 10**7)},
                           "build_wall_s": 317.4, "build_jobs": 2}} for _ in range(rng.randrange(1, 6))]
    runs.append({"run_id": "reference run"})  # a run without resources adds nothing
    facts = {f["label"]: f["value"] for f in sut_facts(runs)}
    assert facts["build (measured)"] == "317 s with 2 jobs", seed
    top = {n: max(r["resources"]["peak_rss_kb"][n] for r in runs[:-1]) for n in ("broker_0", "client")}
    want = ", ".join(f"{n} {kb / 1024:,.0f} MB" for n, kb in sorted(top.items()))
    assert facts[f"peak memory (largest of {len(runs) - 1} runs)"] == want, seed


def test_no_resources_no_facts() -> None:
    assert sut_facts([{"run_id": "a"}, {"resources": None}]) == []
    assert resources_text(None) == ""

"""Faults from outside (experiment/outside.py): a broker stopped for a while, a broker killed, each window logged;
on stand-in processes (fast), then on the reference broker through the whole pipeline to the diagnosis."""

from __future__ import annotations

import random
import shutil
import sys
import time
from pathlib import Path

import pytest
import yaml

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment import outside, procs
from stallscope.experiment.config import load_config
from stallscope.logs.catalogue import load_catalogue
from stallscope.logs.glog import FileScanner

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "tests" / "configs" / "outside" / "config.yaml"
SLEEPER = [sys.executable, "-c", "import time; time.sleep(30)"]


def _state(pid: int) -> str:
    """The process state letter from /proc (T: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _client(tmp: Path, delay_s: float, run_s: float) -> procs.Proc:
    """A stand-in publisher: logs refpub's publish_start line after ``delay_s``, then runs ``run_s``."""
    code = (f"import time; time.sleep({delay_s}); print('I20261206 00:00:00.000000 1 pub_main.cc:186] "
            f"[Phase] publish_start', flush=True); time.sleep({run_s})")
    return procs.start(procs.Proc("client", "client", None, [sys.executable, "-c", code], tmp / "client.log"))


def _brokers(tmp: Path, n: int) -> list[procs.Proc]:
    return [procs.start(procs.Proc(f"broker_{i}", "broker", i, SLEEPER, tmp / f"broker_{i}.log")) for i in range(n)]


def test_planned_reads_knobs_in_start_order() -> None:
    got = outside.planned({"kill_broker": 3, "kill_after_s": 0.5, "stop_broker": 1, "stop_after_s": 2,
                           "stop_for_s": 1.5, "producer_cost_ns": 5})
    assert [(f.name, f.broker, f.after_s, f.for_s) for f in got] == [("broker_kill", 3, 0.5, None),
                                                                   ("broker_stop", 1, 2.0, 1.5)]
    assert outside.planned({"fault_broker": 1}) == []


def test_stop_window_stops_then_continues_the_broker_and_logs_it(tmp_path: Path) -> None:
    rng = random.Random()
    after, for_s, b = round(rng.uniform(0.05, 0.3), 3), round(rng.uniform(0.4, 0.8), 3), rng.randrange(1, 4)
    brokers, client = _brokers(tmp_path, 4), _client(tmp_path, rng.uniform(0.05, 0.2), 5)
    inj = outside.Injector(outside.planned({"stop_broker": b, "stop_after_s": after, "stop_for_s": for_s}),
                           brokers, client, 10).start()
    try:
        log = tmp_path / f"broker_{b}.log"
        deadline = time.monotonic() + 5
        while "[FaultWindow] start" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        while _state(brokers[b].pid) != "T" and time.monotonic() < deadline:  # delivery is asynchronous
            time.sleep(0.01)
        assert _state(brokers[b].pid) == "T" and all(_state(p.pid) != "T" for p in brokers if p.broker != b)
        while "[FaultWindow] stop" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        while _state(brokers[b].pid) == "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(brokers[b].pid) != "T"
        rec = inj.stop()
    finally:
        procs.stop_all([client, *brokers], 2)
    assert rec[0]["applied"] and rec[0]["note"] is None
    # never early nor short; late only by the machine's scheduling (a loaded machine: generous)
    length = rec[0]["end_s"] - rec[0]["start_s"]
    assert after - 0.01 <= rec[0]["start_s"] < after + 2 and for_s - 0.01 <= length < for_s + 2
    events = list(FileScanner(tmp_path / f"broker_{b}.log", "broker", load_catalogue()))
    assert [(e.kind, e.fields["edge"], e.fields["name"], e.broker) for e in events] == [
        ("fault_window", "start", "broker_stop", b), ("fault_window", "stop", "broker_stop", b)]


def test_stop_ended_early_continues_the_stopped_broker(tmp_path: Path) -> None:
    brokers, client = _brokers(tmp_path, 2), _client(tmp_path, 0.05, 5)
    inj = outside.Injector(outside.planned({"stop_broker": 1, "stop_after_s": 0, "stop_for_s": 60}),
                           brokers, client, 10).start()
    try:
        deadline = time.monotonic() + 5
        while _state(brokers[1].pid) != "T" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _state(brokers[1].pid) == "T"
        rec = inj.stop()  # the run ends inside the window: the broker must be running again, so SIGTERM reaches it
        assert _state(brokers[1].pid) != "T" and rec[0]["end_s"] is not None
    finally:
        procs.stop_all([client, *brokers], 2)
    assert all(p.stop_signal == "SIGTERM" and not p.is_running() for p in brokers)
    assert (tmp_path / "broker_1.log").read_text().count("[FaultWindow] stop name=broker_stop broker=1") == 1


def test_kill_ends_the_broker_group_and_logs_an_open_window(tmp_path: Path) -> None:
    brokers, client = _brokers(tmp_path, 3), _client(tmp_path, 0.05, 5)
    inj = outside.Injector(outside.planned({"kill_broker": 2, "kill_after_s": 0.1}), brokers, client, 10).start()
    try:
        brokers[2].popen.wait(timeout=5)
        rec = inj.stop()
    finally:
        procs.stop_all([client, *brokers], 2)
    assert brokers[2].exit_facts() == (None, "SIGKILL") and brokers[2].stop_signal is None
    assert rec[0]["applied"] and rec[0]["end_s"] is None
    text = (tmp_path / "broker_2.log").read_text()
    assert "[FaultWindow] start name=broker_kill broker=2" in text and "[FaultWindow] stop" not in text


def test_fault_after_the_publisher_ended_is_not_applied(tmp_path: Path) -> None:
    brokers, client = _brokers(tmp_path, 2), _client(tmp_path, 0.05, 0.1)
    inj = outside.Injector(outside.planned({"kill_broker": 1, "kill_after_s": 1.0}), brokers, client, 10).start()
    client.popen.wait(timeout=5)
    time.sleep(1.2)
    rec = inj.stop()
    procs.stop_all(brokers, 2)
    assert not rec[0]["applied"] and "not applied" in rec[0]["note"] and brokers[1].stop_signal == "SIGTERM"


def test_kill_of_the_head_broker_is_refused_by_the_schema(tmp_path: Path) -> None:
    cfg = yaml.safe_load(CONFIG.read_text())
    cfg["scenarios"]["broker_killed"]["faults"]["kill_broker"] = 0
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(StallscopeError, match=r"kill_broker.*minimum"):
        load_config(path)


def _leftovers(pids: list[int]) -> list[int]:
    return [p for p in pids if Path(f"/proc/{p}").exists() and _state(p) != "Z"]


@pytest.mark.e2e
@pytest.mark.quiet  # not in CI yet: under load it missed 1 of 6 here (the standstill rule is not load-proof)
@pytest.mark.skipif(not shutil.which("cmake"), reason="cmake is needed to build the broker")
@pytest.mark.parametrize("scenario", ["broker_stopped", "broker_killed"])
def test_outside_fault_on_reference_broker_diagnosed_with_its_broker(scenario: str, ref_build: Path,
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole pipeline on the reference broker; the faulted broker is drawn at random (never the head)."""
    from stallscope.analysis.metrics import compute_metrics
    from stallscope.experiment.run import run_scenario
    from stallscope.logs.parse import parse_run
    from stallscope.pipeline import assess_with_diagnosis

    monkeypatch.chdir(REPO)
    cfg = yaml.safe_load(CONFIG.read_text())
    b = random.randrange(1, 4)
    faults = cfg["scenarios"][scenario]["faults"]
    faults["stop_broker" if "stop_broker" in faults else "kill_broker"] = b
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "runs" / scenario / "t1"
    run_scenario(path, scenario, 1, ref_build, out)
    m = schemas.read_json(out / "manifest.json", "manifest")
    assert m["harness"]["ok"], m["harness"]
    assert [f["applied"] for f in m["outside_faults"]] == [True] and m["outside_faults"][0]["broker"] == b
    assert not _leftovers([p["pid"] for p in m["processes"] if p["pid"]])
    assert not list(out.glob(".ready*"))
    parse_run(out)
    compute_metrics(out)
    claims = schemas.read_json(assess_with_diagnosis([out], tmp_path / "claims.json", config_path=path), "claims")
    d = claims["diagnosis"][0]
    assert (d["bottleneck"], d.get("brokers"), d["matches_expected"]) == (m["expected_cause"], [b], True), d
    assert f"broker_{b}" in d["summary"]
    bound = claims["runs"][0]["bound"]
    assert (bound["cause"], bound.get("brokers")) == (cfg["scenarios"][scenario]["expected_bound"], [b]), bound


FAKE_PUBLISHER = """#!{py}
import time
print("I20261206 00:00:00.000000 2 test_utils.cc:1810] Publisher push start (wall ns): 1", flush=True)
time.sleep(2.0)
print("I20261206 00:00:01.000000 2 test_utils.cc:1852] Publish completed in 2.00 seconds, 5.00 MB/s", flush=True)
"""


@pytest.mark.parametrize("fault", ["stop", "kill"])
def test_outside_fault_through_the_embarcadero_runner(fault: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The same faults through the real broker's runner (stand-in binaries): applied after its publish-start line,
    logged in the broker's log, recorded; nothing of the run left."""
    import stat

    from tests.experiment import test_embarcadero as te

    emb = te.emb
    te.point_fixed_ports(monkeypatch)
    bins = tmp_path / "bin"
    bins.mkdir()
    for name, text in (("embarlet", te.FAKE_BROKER), ("throughput_test", FAKE_PUBLISHER)):
        (bins / name).write_text(text.format(py=sys.executable))
        (bins / name).chmod(0o755 | stat.S_IXUSR)
    b = random.randrange(1, 4)
    scn = te._scn()
    scn["faults"] = ({"stop_broker": b, "stop_after_s": 0.2, "stop_for_s": 0.5} if fault == "stop"
                     else {"kill_broker": b, "kill_after_s": 0.2})
    res = emb.execute(tmp_path / "run", scn, bins, tmp_path / "src", te.RUN_CFG)
    assert res.errors == [] and len(res.outside_faults) == 1
    rec = res.outside_faults[0]
    assert rec["applied"] and rec["broker"] == b and abs(rec["start_s"] - 0.2) < 0.3
    text = (tmp_path / "run" / f"broker_{b}.log").read_text()
    name = "broker_stop" if fault == "stop" else "broker_kill"
    assert f"[FaultWindow] start name={name} broker={b}" in text
    assert ("[FaultWindow] stop" in text) == (fault == "stop")
    killed = res.brokers[b]
    if fault == "kill":
        assert (killed.exit_facts()[1], killed.stop_signal) == ("SIGKILL", None)
    else:  # continued, then stopped by the runner like the others
        assert killed.stop_signal == "SIGTERM"
    te._assert_nothing_left(res)


def test_real_broker_config_takes_outside_faults_only(tmp_path: Path) -> None:
    cfg = yaml.safe_load((REPO / "config" / "embarcadero-experiments.yaml").read_text())
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg))
    scn = load_config(path)["scenarios"]
    assert scn["broker_stopped"]["faults"]["stop_broker"] == 2 and scn["broker_killed"]["faults"]["kill_broker"] == 3
    cfg["scenarios"]["broker_killed"]["faults"]["recv_delay_us"] = 5
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(StallscopeError, match=r"broker_killed: the real Embarcadero .* from outside: stop_broker"):
        load_config(path)

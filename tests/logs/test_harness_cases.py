"""Every statement of ../shared/fixtures/embarcadero-harness/README.md, asserted on ``assess-logs`` output.

One test per case folder; each assertion is commented with the statement it checks (the README's wording).
The folders are copied first and never written to; the tests skip when the fixtures are absent.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from stallscope.pipeline import assess_logs

HARNESS = next((p / "shared" / "fixtures" / "embarcadero-harness" for p in Path(__file__).resolve().parents[1:5]
                if (p / "shared" / "fixtures" / "embarcadero-harness").is_dir()), Path("/nonexistent"))
MIB = 1 << 20


class Out:
    """One case's assess-logs output: claims, and per run its metrics and manifest."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.claims = json.loads((out / "assessment" / "claims.json").read_text())
        self.runs = {r["run_id"].split("/", 1)[1]: r for r in self.claims["runs"]}
        self.diag = {d["run_id"].split("/", 1)[1]: d for d in self.claims["diagnosis"]}

    def metrics(self, tag: str) -> dict[str, Any]:
        return json.loads((self.out / self.runs[tag]["dir"] / "metrics.json").read_text())

    def manifest(self, tag: str) -> dict[str, Any]:
        return json.loads((self.out / self.runs[tag]["dir"] / "manifest.json").read_text())

    @property
    def html(self) -> str:
        return (self.out / "assessment.html").read_text()


@pytest.fixture(scope="module")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if not HARNESS.is_dir():
        pytest.skip(f"harness fixtures not found at {HARNESS}")
    src = tmp_path_factory.mktemp("harness") / "cases"
    shutil.copytree(HARNESS, src)
    done: dict[str, Out] = {}

    def get(case: str) -> Out:
        if case not in done:
            out = tmp_path_factory.mktemp("out") / case
            assess_logs(src / case, out)
            done[case] = Out(out)
        return done[case]

    return get


def _driver_case(o: Out, clients: dict[str, list[tuple[float, float]]], totals: list[float],
                 senddone: list[float]) -> None:
    """The statements every fig1 driver case shares: trials, attempts, outcome, per-client and trial figures."""
    # "3 trials ... each trial ran only Attempt 1 / 3; no retry": 3 runs, attempt 1, final
    assert sorted(o.runs) == ["t1a1", "t2a1", "t3a1"]
    for k, tag in enumerate(sorted(o.runs)):
        r, m = o.runs[tag], o.metrics(tag)
        assert r["attempt"]["number"] == 1 and r["attempt"]["final"] is True and r["attempt"]["of"] == 3
        # "Every trial's outcome: completed" (no ACK timeout, no incomplete attempt)
        assert r["outcome"] == "completed" and m["outcome"]["source"] == "driver"
        # per-client lines, MB/s as printed (2^20 B/s): Bandwidth and Send-done
        got = {h: (c["mb_s"], c["send_done_mb_s"]) for h, c in m["driver"]["clients"].items()}
        assert got == {h: v[k] for h, v in clients.items()}
        # TOTAL and SENDDONE per trial; TOTAL is the clients' Bandwidth summed
        assert m["throughput"]["delivered_mb_s"] == totals[k] and m["throughput"]["send_done_mb_s"] == senddone[k]
        assert m["throughput"]["source"] == "driver"
        assert abs(sum(v[k][0] for v in clients.values()) - totals[k]) < 0.02
        # derived messages per trial: TOTAL_MESSAGE_SIZE / MESSAGE_SIZE = 2,621,440
        assert m["acks"]["expected"] == 2621440
        # "Not failures": overlap warnings and teardown Killed lines (no kill, no crash read from them)
        assert m["outcome"]["killed_brokers"] == [] and m["outcome"]["signal"] is None
        assert o.diag[tag]["bottleneck"] == "none"


def test_fig1_embar5_n2_statements(assessed: Any) -> None:
    o = assessed("fig1_embar5_n2")
    _driver_case(o, {"c4": [(4964.14, 5041.20), (5101.83, 5248.46), (5365.98, 5516.30)],
                     "c3": [(6549.22, 6702.49), (6162.93, 6485.21), (6031.65, 6299.03)]},
                 [11513.36, 11264.76, 11397.63], [11743.69, 11733.67, 11815.33])
    # OVERLAP lines: 9.059865424, 9.188826584, 9.195606663 GB/s (another measurement than TOTAL)
    assert [o.metrics(t)["driver"]["overlap_gb_s"] for t in ("t1a1", "t2a1", "t3a1")] == [
        9.059865424, 9.188826584, 9.195606663]
    for tag in o.runs:
        # "Bound: none stated; healthy": no limit is named (ack_wait 1.4-4.8 % of each client's time)
        assert o.runs[tag]["bound"]["cause"] in ("none", "unknown")
        assert o.metrics(tag)["throughput"]["ack_wait_share"] < 0.06
    # c3 is faster than c4 in every trial
    assert all(o.metrics(t)["driver"]["clients"]["c3"]["mb_s"] > o.metrics(t)["driver"]["clients"]["c4"]["mb_s"]
               for t in o.runs)


def test_fig1_scalog_n4_statements(assessed: Any) -> None:
    o = assessed("fig1_scalog_n4")
    _driver_case(o, {"c4": [(2866.63, 8288.41), (2862.71, 8195.89), (2808.80, 8207.62)],
                     "c3": [(2736.44, 6965.36), (2715.34, 6719.32), (2672.77, 6844.59)],
                     "c1": [(2809.69, 4677.30), (2776.13, 4742.32), (2717.69, 4366.30)],
                     "local": [(2948.34, 11707.89), (2607.82, 11945.23), (2896.79, 12956.04)]},
                 [11361.10, 10962.00, 11096.05], [31638.96, 31602.76, 32374.55])
    assert [o.metrics(t)["driver"]["overlap_gb_s"] for t in ("t1a1", "t2a1", "t3a1")] == [
        8.226475570, 9.677422741, 4.571151154]
    for tag in o.runs:
        m, bound = o.metrics(tag), o.runs[tag]["bound"]
        # "Bound: the wait for ACKs, not sending": the ACK path, never the producer, the network or the send path
        assert bound["cause"] == "ack_path" and bound["confidence"] in ("medium", "high")
        # SENDDONE is 2.8-2.9x TOTAL in every trial
        assert 2.7 < m["throughput"]["send_done_mb_s"] / m["throughput"]["delivered_mb_s"] < 3.0


def test_fig1_embar5_n4_statements(assessed: Any) -> None:
    o = assessed("fig1_embar5_n4")
    _driver_case(o, {"c4": [(3622.67, 3882.07), (3449.72, 3619.95), (3662.99, 3976.11)],
                     "c3": [(3541.05, 4067.91), (3252.63, 4082.72), (2898.47, 2987.77)],
                     "c1": [(3271.59, 3275.36), (3627.90, 3820.83), (3662.01, 3667.23)],
                     "local": [(4188.53, 6579.16), (4178.61, 5314.05), (4286.35, 6051.36)]},
                 [14623.84, 14508.86, 14509.82], [17804.50, 16837.55, 16682.47])
    for tag in o.runs:
        m = o.metrics(tag)
        # "there is no OVERLAP → line in any trial"
        assert m["driver"]["overlap_gb_s"] is None
        # "mixed, no single limit stated ... not ACK-bound the way fig1_scalog_n4 is"
        assert o.runs[tag]["bound"]["cause"] != "ack_path"
        # SENDDONE exceeds TOTAL by 15-22 %
        assert 1.14 < m["throughput"]["send_done_mb_s"] / m["throughput"]["delivered_mb_s"] < 1.23


def test_fig3_prefix_safe_statements(assessed: Any) -> None:
    o = assessed("fig3_prefix_safe")
    # "3 runs (trials 1-3), 1 client each"; the un-suffixed CSVs are copies of trial 3's, "not a fourth trial"
    assert sorted(o.runs) == ["t1", "t2", "t3"]
    nu = {f["file"]: f["why"] for f in o.runs["t1"]["not_understood"]}
    assert set(nu) == {"failure_events.csv", "real_time_acked_throughput.csv"}
    assert "byte copy of failure_events_trial3.csv" in nu["failure_events.csv"]
    assert "byte copy of real_time_acked_throughput_trial3.csv" in nu["real_time_acked_throughput.csv"]
    assert "failure_events.csv" in o.html and "Files not used" in o.html  # on the report's first page
    table = {"t1": (3, 11.72, 1746.94, 30799220, 9827700, 7.1), "t2": (1, 11.64, 1760.08, 30936037, 9964517, 7.2),
             "t3": (2, 11.78, 1738.95, 30789585, 9818065, 7.2)}
    for tag, (killed, took, bw, raw, excess, recovery) in table.items():
        m, man = o.metrics(tag), o.manifest(tag)
        assert len(m["clients"]) == 1
        # panel_metadata.txt: 4 brokers, 21474836480 bytes of 1 KiB messages, order 5, ACK 1
        p = man["params"]
        assert (p["brokers"], p["total_bytes"], p["message_size"], p["order"], p["ack_level"]) == (
            4, 21474836480, 1024, 5, 1)
        # "Outcome of every trial: completed ... No ACK timeout, no Allowed shortfall line, no lost messages"
        assert o.runs[tag]["outcome"] == "completed" and m["acks"]["is_timeout"] is False
        assert m["outcome"]["messages_lost"] == 0
        # the killed broker: the one whose sends fail right after the kill (3, 1, 2); only one
        assert m["outcome"]["killed_brokers"] == [killed]
        # "Failure publish test completed in 11.72 / 11.64 / 11.78 seconds"
        assert m["throughput"]["completed_s"] == took
        # headline (active window) = end-to-end: 1746.94 / 1760.08 / 1738.95 MB/s
        t = m["throughput"]
        assert t["active_window_mb_s"] == t["e2e_mb_s"] == t["delivered_mb_s"] == bw
        # derived check: 20480 MiB / completed seconds = the bandwidth (MB = 2^20 B)
        assert abs(21474836480 / MIB / took - bw) / bw < 0.005
        # "the delivered count is the target, 20,971,520"; the raw count exceeds it by excess
        a = m["acks"]
        assert (a["expected"], a["received"], a["raw_received"], a["excess"], a["unacked"]) == (
            20971520, 20971520, raw, excess, 0)
        # all ACKs through B0; short= of B1..B3 are not losses
        assert a["per_broker"]["0"] == raw and all(a["per_broker"][b] == 0 for b in "123")
        # routing: the killed broker has the smallest brokerN_msgs; the routed counts sum to more than the target
        # because the replayed suffix (512-513 batches of 1,927) is counted again
        routed = a["routed_per_broker"]
        assert min(routed, key=lambda b: routed[b]) == str(killed)
        assert (sum(routed.values()) - 20971520) / 1927 in (512, 513)
        # "Bound: the failure recovery, as the logs state it": the killed broker, ACKs back ~7.1 s after the kill
        bound = o.runs[tag]["bound"]
        assert bound["cause"] == "broker_failure" and bound["brokers"] == [killed]
        assert abs(m["outcome"]["recovery_s"] - recovery) < 0.06


def test_ordering_path_statements(assessed: Any) -> None:
    o = assessed("ordering_path_o5_n4_trial1")
    # "1 trial (trial 1, attempt 1), 4 clients, 4 brokers: 1 run"
    assert list(o.runs) == ["t1a1"]
    m, man, r = o.metrics("t1a1"), o.manifest("t1a1"), o.runs["t1a1"]
    assert len(man["files"]["broker_logs"]) == 4 and len(m["clients"]) == 4
    assert r["attempt"]["trial"] == 1 and r["attempt"]["number"] == 1
    # every file is used: nothing listed as not understood
    assert r["not_understood"] == []
    # "Outcome: completed for every client"
    assert r["outcome"] == "completed" and all(c["publish_ok"] is True for c in m["clients"])
    # 655,360 messages per client, all acknowledged; trial total 2,621,440 messages, 10,737,418,240 bytes
    assert all(c["acks"]["received"] == c["acks"]["expected"] == 655360 for c in m["clients"])
    assert (m["acks"]["expected"], m["acks"]["received"], man["params"]["total_bytes"]) == (
        2621440, 2621440, 10737418240)
    # raw counts below the normalized ones are not a shortfall
    assert m["acks"]["unacked"] == 0 and m["acks"]["completeness"] == 1.0
    # per client: completed in, Bandwidth, Send-done (MB/s = 2^20 B/s)
    per = {c["host"]: c["throughput"] for c in m["clients"]}
    want = {"c4": (0.77, 3313.74, 3456.36), "c3": (0.80, 3196.36, 3771.75), "c1": (0.69, 3691.29, 3817.79),
            "local": (0.54, 4705.11, 6573.05)}
    assert {h: (t["completed_s"], t["delivered_mb_s"], t["send_done_mb_s"]) for h, t in per.items()} == want
    # ack_wait_ms from [POLL_BREAKDOWN]: 30.160, 120.952, 21.913, 149.671
    assert {h: t["ack_wait_ms"] for h, t in per.items()} == {"c4": 30.160, "c3": 120.952, "c1": 21.913,
                                                            "local": 149.671}
    # 2560 MiB / 3691.29 MB/s = 0.6935 s: printed as 0.69 (with 10^6 it would be 0.727 s)
    assert abs(2684354560 / MIB / 3691.29 - 0.69) < 0.005
    # trial total (derived, no driver line): 14906.50 MB/s Bandwidth, 17618.95 MB/s Send-done
    assert m["throughput"]["delivered_mb_s"] == 14906.5 and m["throughput"]["send_done_mb_s"] == 17618.95
    # per-broker ACKs: all ACK bytes under broker 0 in every time series, Cum_Ack_Bytes = every byte
    for c in m["clients"]:
        ts = c["timeseries"]
        assert ts["cum_ack_bytes"] == 2684354560
        assert all(ts["per_broker"][b]["peak_ack_gib_s"] == 0 for b in "123") and ts["per_broker"]["0"][
            "peak_ack_gib_s"] > 0
    # broker-side E/I lines are not failures; the broker logs state no bottleneck
    assert m["outcome"]["signal"] is None and o.diag["t1a1"]["bottleneck"] == "none"
    assert r["bound"]["cause"] in ("none", "unknown")
    # clients' ids as the brokers see them: c4 753856, c3 424071, c1 602127, local 801150 (the probe 137860 is
    # not one of the 4 clients)
    ids = {c["host"]: c["client_id"] for c in m["clients"]}
    assert ids == {"c4": 753856, "c3": 424071, "c1": 602127, "local": 801150}
    # run_contract.csv: git_commit cb6bb340..., git_dirty false, order 5, ACK 1
    assert man["sut"]["commit"] == "cb6bb340baa5c3ef531b30d068618bb85535996b" and man["sut"]["is_dirty"] is False
    assert (man["params"]["order"], man["params"]["ack_level"]) == (5, 1)


def _single(o: Out) -> tuple[dict[str, Any], dict[str, Any]]:
    assert list(o.runs) == ["t1"]
    return o.runs["t1"], o.metrics("t1")


def test_o5_ack_timeout_progress_statements(assessed: Any) -> None:
    r, m = _single(assessed("o5_ack_timeout_progress"))
    a = m["acks"]
    # "Outcome: failed - ACK timeout" after 45 s, although the file ends with "All experiments have finished."
    assert r["outcome"] == "ack_timeout" and a["is_timeout"] is True and (a["timeout_s"], a["waited_s"]) == (45, 45)
    assert m["outcome"]["publish_ok"] is False
    # ACKed 2,227,612 of 8,388,608; 6,160,996 unacknowledged (derived)
    assert (a["received"], a["expected"], a["unacked"]) == (2227612, 8388608, 6160996)
    # per broker B0=80934 B1=42394 B2=219678 B3=1884606 (B4.. = 0 left out: 4 brokers)
    assert a["per_broker"] == {"0": 80934, "1": 42394, "2": 219678, "3": 1884606}
    # everything was sent: total_batches_sent=4353, sent_all=yes (attempted=0 not read as nothing sent)
    assert (a["batches_sent"], a["sent_all"]) == (4353, True)
    # ACKs were not frozen: 44 progress lines; 360,349 up to 26 s, then 1,566,651, then 2,227,612 to the end
    prog = {int(p["elapsed_s"]): p for p in a["progress"]}
    assert len(a["progress"]) == 44 and prog[26]["received"] == 360349 and prog[27]["received"] == 1566651
    assert prog[44]["received"] == 2227612
    # only broker 3 made progress after the first second
    moved = {b for b in "0123" if prog[1]["per_broker"].get(b) != prog[44]["per_broker"].get(b)}
    assert moved == {"3"}


def test_o5_b0_ack_stall_statements(assessed: Any) -> None:
    o = assessed("o5_b0_ack_stall")
    r, m = _single(o)
    a = m["acks"]
    # "failed - ACK timeout" after 60 s, although the file ends with "All experiments have finished."
    assert r["outcome"] == "ack_timeout" and (a["timeout_s"], a["waited_s"]) == (60, 60)
    # ACKed 6,293,959 of 8,388,608; 2,094,649 unacknowledged (derived)
    assert (a["received"], a["expected"], a["unacked"]) == (6293959, 8388608, 2094649)
    # the final counts are the Per-Broker line's, not the sampled [PUB_ACK] lines
    assert a["per_broker"] == {"0": 3854, "1": 2098503, "2": 2098503, "3": 2093099}
    # "Broker 0 is the one that stalled": named by the bound and the diagnosis
    assert r["bound"]["cause"] == "ack_path" and r["bound"]["brokers"] == [0]
    assert o.diag["t1"]["bottleneck"] == "ack_path" and "broker 0" in o.diag["t1"]["summary"]
    # no progress at all during the wait: 59 progress lines, all at 6,293,959
    assert len(a["progress"]) == 59 and {p["received"] for p in a["progress"]} == {6293959}
    # the publish before the ACK wait took about 18 s (derived)
    assert 16 < m["phases"]["publish"]["duration_s"] < 20
    # everything was sent: total_batches_sent=4354
    assert (a["batches_sent"], a["sent_all"]) == (4354, True)

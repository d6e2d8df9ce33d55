"""Broker liveness: ACK standstills per broker (paused, resumed, others meanwhile) and brokers that ended early."""

from __future__ import annotations

import random

import pandas as pd

from stallscope.analysis.liveness import ack_points, ended_early, standstills

T0 = 1_000_000_000


def _series(broker: int, counts: list[int], step_ms: int = 100) -> dict:
    return {"kind": "ack_series", "ts_us": T0 + 10**7, "broker": pd.NA, "role": "client",
            "fields": {"broker": broker, "step_ms": step_ms, "acked": ",".join(map(str, counts))}}


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["kind", "ts_us", "broker", "role", "fields"])


def test_standstill_of_one_broker_that_resumed_while_others_grew() -> None:
    rng = random.Random()
    start, length, n = rng.randrange(2, 10), rng.randrange(8, 30), 60
    paused = [min(i, start) if i < start + length else start + (i - start - length) for i in range(1, n + 1)]
    rows = [_series(b, list(range(1, n + 1))) for b in (0, 1, 3)] + [_series(2, paused)]
    got = standstills(ack_points(_frame(rows), T0), T0)
    assert set(got) == {"0", "1", "2", "3"}
    s = got["2"]
    assert s["resumed"] and abs(s["longest_s"] - length / 10) < 0.11 and abs(s["start_s"] - start / 10) < 0.11
    assert s["others_gain_share"] > 0.9 * (length - 1) / n
    assert all(got[b]["longest_s"] == 0 for b in ("0", "1", "3"))


def test_standstill_to_the_end_is_not_resumed() -> None:
    rows = [_series(0, list(range(1, 41))), _series(1, [min(i, 5) for i in range(1, 41)])]
    got = standstills(ack_points(_frame(rows), T0), T0)
    assert not got["1"]["resumed"] and got["1"]["longest_s"] >= 3.4


def test_standstill_needs_a_publish_start_and_two_brokers() -> None:
    rows = [_series(0, [1, 2, 3])]
    assert standstills(ack_points(_frame(rows), T0), T0) == {}
    assert standstills(ack_points(_frame(rows + [_series(1, [1, 1, 2])]), None), None) == {}


def test_broker_ack_lines_and_progress_count_as_points() -> None:
    rows = [{"kind": "broker_acks", "ts_us": T0 + i * 10**6, "broker": 1, "role": "broker",
             "fields": {"ack_broker": 1, "acks": v, "next_to_ack": 0}} for i, v in enumerate([5, 5, 5, 9])]
    rows += [{"kind": "ack_progress", "ts_us": T0 + i * 10**6, "broker": pd.NA, "role": "client",
              "fields": {"received": 0, "target": 1, "elapsed_s": i, "per_broker": {"0": 10 * i + 1}}}
             for i in range(4)]
    pts = ack_points(_frame(rows), T0)
    assert pts[1][0] == (T0, 5) and len(pts[0]) == 4
    got = standstills(pts, T0)
    assert got["1"]["longest_s"] == 2.0 and got["1"]["resumed"] and got["1"]["others_gain_share"] == round(20 / 31, 6)


def test_ended_early_lists_brokers_the_runner_did_not_stop() -> None:
    procs = [{"role": "broker", "broker": 0, "exit_code": 0, "signal": None, "stopped_by": "SIGTERM"},
             {"role": "broker", "broker": 1, "exit_code": None, "signal": "SIGKILL", "stopped_by": None},
             {"role": "broker", "broker": 2, "exit_code": 134, "signal": None, "stopped_by": None},
             {"role": "broker", "broker": 3, "exit_code": None, "signal": "SIGKILL", "stopped_by": "SIGKILL"},
             {"role": "client", "broker": None, "exit_code": 2, "signal": None, "stopped_by": None}]
    assert ended_early({"processes": procs}) == {"1": {"signal": "SIGKILL", "exit_code": None},
                                                 "2": {"signal": None, "exit_code": 134}}
    old = [{k: v for k, v in p.items() if k != "stopped_by"} for p in procs]
    assert ended_early({"processes": old}) == {}


def test_client_series_standstill_of_one_broker() -> None:
    from stallscope.analysis.liveness import series_points

    rng = random.Random()
    n, stop_at, stop_len = 200, rng.randrange(20, 60), rng.randrange(20, 80)
    rows = []
    for i in range(n):
        acking = 5 <= i < 190
        row = {"t_ms": 100 * i}
        for b in range(4):
            paused = b == 2 and stop_at <= i < stop_at + stop_len
            row[f"b{b}_ack_gib_s"] = 0.1 if acking and not paused else 0.0
        rows.append(row)
    pts, start = series_points(pd.DataFrame(rows))
    assert start == 500_000
    got = standstills(pts, start)
    s = got["2"]
    assert s["resumed"] and abs(s["longest_s"] - (stop_len - 1) / 10) < 0.11
    assert abs(s["start_s"] - (stop_at - 5) / 10) < 0.11 and s["others_gain_share"] > 0.9 * stop_len / 185
    assert all(not got[b]["resumed"] or got[b]["longest_s"] < 0.2 for b in ("0", "1", "3"))


def test_pause_wins_over_a_longer_quiet_after_the_last_ack() -> None:
    paused = [min(i, 5) if i < 15 else min(i - 10, 20) for i in range(1, 61)]  # flat 1 s, then flat 4 s at the end
    rows = [_series(0, list(range(1, 61))), _series(1, paused)]
    got = standstills(ack_points(_frame(rows), T0), T0)["1"]
    assert got["resumed"] and got["longest_s"] == 1.0 and got["start_s"] == 0.5


def test_sites_while_sending_count_by_site_broker_and_timeouts() -> None:
    from stallscope.analysis.stalls import compute_stalls

    rows = [("nm.cc:10", "header", "publish", 0, {"bytes_read": -1}), ("nm.cc:10", "header", "publish", 1,
             {"bytes_read": 128}), ("nm.cc:20", "payload", "publish", 1, {"remaining": 5}),
            ("nm.cc:10", "header", "post", 2, {"bytes_read": 0})]
    st = pd.DataFrame([{"src": s, "short": k, "phase": ph, "end_phase": ph, "closed": False, "broker": b,
                        "duration_ms": 60 + i, "fields": f} for i, (s, k, ph, b, f) in enumerate(rows)])
    got = compute_stalls(st, [0, 1, 2], {"source": "markers"})["sites_while_sending"]
    assert got == [{"site": "nm.cc:10", "kind": "header", "count": 2, "max_ms": 61, "returned_minus_one": 1,
                    "per_broker": {"0": 1, "1": 1}},
                   {"site": "nm.cc:20", "kind": "payload", "count": 1, "max_ms": 62, "returned_minus_one": 0,
                    "per_broker": {"1": 1}}]


def test_series_with_its_last_row_cut_is_read_without_it(tmp_path) -> None:
    from stallscope.analysis.metrics import _one_series

    head = ("Timestamp(ms),Broker_0_sent_GiBps,Broker_0_ack_GiBps,Broker_1_sent_GiBps,Broker_1_ack_GiBps,"
            "Sent_GiBps,Ack_GiBps,Total_GBps,Cum_Sent_Bytes,Cum_Ack_Bytes")
    rows = [f"{100 * i},0.1,0.1,0.1,0.1,0.2,0.2,0.2,{i},{i}" for i in range(5)]
    (tmp_path / "ts.csv").write_text("\n".join([head, *rows, "500,0.1,0.1,0.1,0.1,0.2,0.2,0.2"]) + "\n")
    df = _one_series(tmp_path, {"client.log": "ts.csv"})
    assert df is not None and list(df["t_ms"]) == [0, 100, 200, 300, 400]
    (tmp_path / "bad.csv").write_text("\n".join([head, rows[0], "x,0.1,0.1,0.1,0.1,0.2,0.2,0.2,1,1", rows[2]]) + "\n")
    assert _one_series(tmp_path, {"client.log": "bad.csv"}) is None

"""Generate folders in the layouts of Embarcadero harnesses that have no public example, from their descriptions:

- paced clients: ``trial<k>_<host>.log`` per client, each paced at ``target_mbps=<T>`` with a send gap of a few
  seconds injected, next to gzipped broker logs ``trial<k>_attempt<a>_broker<b>.log.gz``;
- a KV-benchmark trial whose head broker (broker 0) was killed: the driver's own log (``Trial k``,
  ``Killing head broker 0``, ``s<k> exited 124``, ``BROKEN RUNS``), one log per session ``trial<k>_s<j>.log``
  ending in glog's SIGTERM stack trace, and the brokers' logs.

Every figure is drawn from ``rng`` and returned as the truth the assessment must find: nothing is copied from
a fixture. MB/s is 2^20 B/s, as the logs mean it.
"""

from __future__ import annotations

import gzip
import random
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders.logs import glog

MIB = 1 << 20


def _banner(t: str, size: int, total: int, threads: int, order: int) -> list[str]:
    return [glog("", t=t, src="test_utils.cc:1054"), "", "===== Publish Throughput Test =====",
            f"\t  Message size: {size} bytes", f"\t  Total message size: {total} bytes",
            f"\t  Threads per broker: {threads}", "\t  ACK level: 1", f"\t  Order level: {order}",
            "\t  Sequencer: EMBARCADERO"]


def _clock(rng: random.Random) -> tuple[int, int]:
    return rng.randint(8, 20), rng.randint(0, 59)


def _ts(h: int, m: int, s: float) -> str:
    m2, sec = m + int(s) // 60, s % 60
    return f"{h + m2 // 60:02d}:{m2 % 60:02d}:{sec:09.6f}"


def _broker_log(b: int, h: int, m: int, head: bool) -> str:
    lines = [glog(f"Starting Embarlet broker_id: {b}", t=_ts(h, m, 0.1), src="embarlet.cc:80"),
             glog(f"Broker {b} head={int(head)}", t=_ts(h, m, 0.2), src="embarlet.cc:90"),
             glog("Wrote readiness signal to /tmp/ready", t=_ts(h, m, 0.3), src="embarlet.cc:120")]
    return "".join(line + "\n" for line in lines)


@dataclass
class PacedTruth:
    """What a paced folder's logs state, per trial and host."""

    target_mbps: int
    gap_s: float
    hosts: list[str]
    trials: int
    brokers: int
    delivered: dict[tuple[int, str], float] = field(default_factory=dict)
    send_done: dict[tuple[int, str], float] = field(default_factory=dict)
    messages: int = 0


def write_paced(root: Path, rng: random.Random, gz_brokers: bool = True) -> PacedTruth:
    """A paced folder: every client held to ``target_mbps`` with an injected gap; broker logs gzipped or not."""
    root.mkdir(parents=True, exist_ok=True)
    hosts = rng.sample(["c1", "c2", "c3", "c4", "local", "node7"], rng.randint(1, 3))
    truth = PacedTruth(target_mbps=rng.choice([250, 400, 500, 800]), gap_s=float(rng.randint(2, 4)), hosts=hosts,
                       trials=rng.randint(1, 3), brokers=rng.randint(2, 4))
    size = rng.choice([1024, 4096])
    total = rng.randint(4, 12) * 256 * MIB
    truth.messages = total // size
    for k in range(1, truth.trials + 1):
        h, m = _clock(rng)
        for b in range(truth.brokers):
            text = _broker_log(b, h, m, b == 0)
            name = f"trial{k}_attempt1_broker{b}.log"
            if gz_brokers:
                (root / f"{name}.gz").write_bytes(gzip.compress(text.encode()))
            else:
                (root / name).write_text(text)
        for host in hosts:
            send_s = total / MIB / truth.target_mbps + truth.gap_s
            poll_s = rng.uniform(0.01, 0.2)
            bw, sd = total / MIB / (send_s + poll_s), total / MIB / send_s
            truth.delivered[(k, host)], truth.send_done[(k, host)] = round(bw, 2), round(sd, 2)
            start = rng.uniform(1, 2)
            lines = [glog("Publisher: Expecting 4 brokers", t=_ts(h, m, 0.5), src="publisher.cc:411"),
                     *_banner(_ts(h, m, 0.6), size, total, rng.randint(2, 6), 5),
                     glog(rng.choice([f"Pacing enabled: target_mbps={truth.target_mbps} burst_batches=4",
                                      f"Publisher pacing target_mbps: {truth.target_mbps}"]), t=_ts(h, m, 0.7),
                          src="publisher.cc:1930"),
                     glog("Publisher push start", t=_ts(h, m, start), src="publisher.cc:2001"),
                     glog(rng.choice([f"Injected send gap of {int(truth.gap_s * 1000)} ms",
                                      f"[GAP] gap_ms={int(truth.gap_s * 1000)}",
                                      f"injecting a {truth.gap_s:g} s send gap"]), t=_ts(h, m, start + 2), sev="W",
                          src="publisher.cc:2050"),
                     glog(f"[ACK_VERIFY] normalized_received={truth.messages} raw_received={truth.messages} "
                          f"target={truth.messages} 100%", t=_ts(h, m, start + send_s + poll_s),
                          src="publisher.cc:2872"),
                     glog("[UNACKED_DRAIN] bytes=0 batches=0", t=_ts(h, m, start + send_s + poll_s),
                          src="publisher.cc:2885"),
                     glog(f"Publish test completed in {send_s + poll_s:.2f} seconds", t=_ts(h, m, start + send_s
                                                                                               + poll_s),
                          src="test_utils.cc:1527"),
                     glog(f"Bandwidth: {bw:.2f} MB/s | Send-done: {sd:.2f} MB/s", t=_ts(h, m, start + send_s + poll_s),
                          src="test_utils.cc:1531")]
            (root / f"trial{k}_{host}.log").write_text("".join(line + "\n" for line in lines))
    return truth


@dataclass
class KvTruth:
    """What a killed-head KV trial's logs state."""

    trial: int
    sessions: list[str]
    killed_broker: int
    exit_code: int
    brokers: int


_STACK = ["*** Aborted at {unix} (unix time) try \"date -d @{unix}\" if you are using GNU date ***",
          "PC: @     0x7f3a2c01a2b4 (unknown)",
          "*** SIGTERM (@0x3e8) received by PID {pid} (TID 0x7f3a2b7fe640) from PID {ppid}; stack trace: ***",
          "    @     0x7f3a2c01a2b4 (unknown)",
          "    @     0x55d1c0a1f3e2 kv::Session::Run()",
          "    @     0x7f3a2bf29d90 (unknown)"]


def write_kv_killed(root: Path, rng: random.Random) -> KvTruth:
    """A KV-benchmark trial: head broker killed, every session ended by SIGTERM, the driver saying exited 124."""
    root.mkdir(parents=True, exist_ok=True)
    truth = KvTruth(trial=rng.randint(1, 5), sessions=[f"s{j}" for j in range(1, rng.randint(2, 3) + 1)],
                    killed_broker=0, exit_code=124, brokers=rng.randint(3, 4))
    h, m = _clock(rng)
    driver = ["KV benchmark driver", f"brokers={truth.brokers} sessions={len(truth.sessions)}",
              f"=== Trial {truth.trial} ===", "Attempt 1 / 1", "Starting brokers...",
              f"Killing head broker {truth.killed_broker} (pid {rng.randint(1000, 99999)})"]
    driver += [f"session {s} exited {truth.exit_code}" for s in truth.sessions]
    driver += [f"BROKEN RUNS: trial {truth.trial}"]
    (root / "kv_bench_driver.log").write_text("\n".join(driver) + "\n")
    for b in range(truth.brokers):
        (root / f"trial{truth.trial}_attempt1_broker{b}.log").write_text(_broker_log(b, h, m, b == 0))
    for s in truth.sessions:
        unix, pid = rng.randint(1_700_000_000, 1_800_000_000), rng.randint(1000, 99999)
        lines = [glog(f"KV session {s} connecting to head broker", t=_ts(h, m, 1.0), src="kv_client.cc:40"),
                 glog(f"KV session {s}: 20000 puts issued", t=_ts(h, m, 3.0), src="kv_client.cc:88"),
                 glog("Head broker unreachable, retrying", t=_ts(h, m, 4.0), sev="W", src="kv_client.cc:120")]
        lines += [x.format(unix=unix, pid=pid, ppid=pid - 1) for x in _STACK]
        (root / f"trial{truth.trial}_{s}.log").write_text("\n".join(lines) + "\n")
    return truth


@dataclass
class ShortfallTruth:
    """What a broker-kill failure test that lost messages states."""

    trials: int
    killed: dict[int, int]
    lost: dict[int, int]
    messages: int


def write_failure_shortfall(root: Path, rng: random.Random) -> ShortfallTruth:
    """A fig3-style failure folder (``client_failure_trial<k>.log``, no driver log) whose kill lost messages the
    test allowed: the killed broker shows in the send failures after the kill, the loss in an allowed-shortfall
    line."""
    root.mkdir(parents=True, exist_ok=True)
    size, total = 1024, rng.randint(8, 20) * 1024 * MIB
    truth = ShortfallTruth(trials=rng.randint(1, 3), killed={}, lost={}, messages=total // size)
    for k in range(1, truth.trials + 1):
        h, m = _clock(rng)
        b = truth.killed[k] = rng.randint(1, 3)
        lost = truth.lost[k] = rng.randint(1, 40) * 1927
        t_kill = rng.randint(1500, 2500)
        took = rng.uniform(8, 14)
        got = truth.messages - lost
        lines = [*_banner(_ts(h, m, 0.5), size, total, 4, 5),
                 glog(f"Triggering broker kill at t={t_kill}ms sent={total // 2} bytes", t=_ts(h, m, 2.5),
                      src="publisher.cc:2973"),
                 glog(f"Failure/Event @ {t_kill + 110} ms: Header Send Fail Broker {b} (send failed)", sev="W",
                      t=_ts(h, m, 2.6), src="publisher.h:334"),
                 glog(f"Failure/Event @ {t_kill + 111} ms: Reconnect Success Broker 0 (from {b})", sev="W",
                      t=_ts(h, m, 2.6), src="publisher.h:334"),
                 glog(f"[ACK_VERIFY] normalized_received={got} raw_received={got} target={truth.messages} "
                      f"{100 * got / truth.messages:.2f}%", t=_ts(h, m, 2 + took), src="publisher.cc:2762"),
                 glog(f"Allowed shortfall: {lost} messages (killed broker {b}, within the failure budget)",
                      sev="W", t=_ts(h, m, 2 + took), src="publisher.cc:2770"),
                 glog(f"Failure publish test completed in {took:.2f} seconds", t=_ts(h, m, 2 + took),
                      src="test_utils.cc:1300"),
                 glog(f"Bandwidth (end-to-end incl. tail drain): {total / MIB / took:.2f} MB/s", t=_ts(h, m, 2 + took),
                      src="test_utils.cc:1304")]
        (root / f"client_failure_trial{k}.log").write_text("".join(line + "\n" for line in lines))
    return truth

"""End-to-end and fault-knob tests of the C++ reference broker (refbroker) and publisher (refpub)."""
from __future__ import annotations

import re
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

GLOG = re.compile(r"^([IWEF])(\d{8}) (\d{2}:\d{2}:\d{2}\.\d{6}) +(\d+) ([^ :]+):(\d+)\] (.*)$")
BANNER = ["", "===== Publish Throughput Test =====", "\t  Message size: ", "\t  Total message size: ",
          "\t  Threads per broker: ", "\t  ACK level: ", "\t  Order level: ", "\t  Sequencer: EMBARCADERO"]
FORBIDDEN = ["fatal", "abort", "segfault", "core dumped", "failed to connect", "connection refused",
             "connection timed out"]
MSG = 1024
PADDED = 1088


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Brokers started on free loopback ports; stop() SIGTERMs them and returns their logs."""

    def __init__(self, bin_dir: Path, tmp: Path, count: int, extra: dict[int, list[str]] | None = None,
                 binary: str = "refbroker") -> None:
        self.tmp, self.procs, self.ports, self.logs = tmp, [], [], []
        for i in range(count):
            port, log, ready = free_port(), tmp / f"broker_{i}.log", tmp / f"ready_{i}"
            args = [str(bin_dir / binary), "--id", str(i), "--port", str(port), "--ready-file", str(ready)]
            with open(log, "wb") as fh:
                self.procs.append(subprocess.Popen(args + (extra or {}).get(i, []), stdout=fh, stderr=fh))
            self.ports.append(port)
            self.logs.append(log)
        deadline = time.monotonic() + 10
        while not all((tmp / f"ready_{i}").exists() for i in range(count)):
            assert time.monotonic() < deadline, "brokers did not become ready"
            time.sleep(0.02)

    def broker_list(self) -> str:
        return ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def stop(self) -> list[str]:
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=3)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return [log.read_text() for log in self.logs]


@pytest.fixture
def cluster_factory(bin_dir: Path, tmp_path: Path):
    made: list[Cluster] = []

    def make(count: int, extra: dict[int, list[str]] | None = None, binary: str = "refbroker") -> Cluster:
        made.append(Cluster(bin_dir, tmp_path, count, extra, binary))
        return made[-1]

    yield make
    for c in made:
        c.stop()


def run_pub(bin_dir: Path, cluster: Cluster, *args: str, timeout: float = 40) -> tuple[int, str]:
    log = cluster.tmp / "client.log"
    cmd = [str(bin_dir / "refpub"), "-m", str(MSG), "-b", cluster.broker_list(), "--client-id", "4242", *args]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=fh)
        try:
            rc = proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return rc, log.read_text()


def msgs(lines: str, pattern: str) -> list[re.Match]:
    return [m for m in re.finditer(pattern, lines, re.M)]


def kv_line(text: str, tag: str, **match: int) -> list[dict[str, int]]:
    """Parse `tag k=v ...` lines into dicts (integer values), keeping those that match the given keys."""
    out = []
    for line in text.splitlines():
        if tag in line:
            d = {k: int(v) for k, v in re.findall(r"(\w+)=(-?\d+)", line.split(tag, 1)[1])}
            if all(d.get(k) == v for k, v in match.items()):
                out.append(d)
    return out


def assert_glog_only(text: str) -> None:
    pending = 0
    for line in text.splitlines():
        m = GLOG.match(line)
        if m:
            pending = 8 if m.group(7) == "" else 0
            continue
        assert pending > 0 and line.startswith(BANNER[8 - pending]), f"not a glog line: {line!r}"
        pending -= 1


def test_e2e_4_brokers_4_threads_all_acked(bin_dir, cluster_factory):
    cl = cluster_factory(4)
    rc, client = run_pub(bin_dir, cl, "-s", str(10000 * MSG), "-n", "4", "-a", "1")
    logs = cl.stop()
    assert rc == 0, client
    for phase in ("init_done", "publish_start", "send_done", "ack_done"):
        assert f"[Phase] {phase}" in client
    assert "Publisher finished sending 10000 messages" in client
    assert len(msgs(client, r"EXITING WITH ZERO BATCHES SENT!")) == 10
    routed = [sum(d["messages"] for d in kv_line(client, "[SendStats]", broker=b)) for b in range(4)]
    assert routed == [7708, 2292, 0, 0]
    for b, text in enumerate(logs):
        (m,) = kv_line(text, "[BrokerMetrics]")
        assert m["messages"] == routed[b] and m["acked"] == routed[b] and m["ack_sent"] == routed[b]
        assert not any(f in text.lower() for f in FORBIDDEN)
    for text in [client, *logs]:
        assert_glog_only(text)


def stalls(text: str, kind: str) -> list[re.Match]:
    pats = {"header": r"\[STALL\] recv batch header blocked (\d+)ms client_id=\d+ bytes_read=(-?\d+)",
            "partial": r"\[STALL\] recv batch header \(partial\) blocked (\d+)ms",
            "payload": r"\[STALL\] recv payload blocked (\d+)ms"}
    return msgs(text, pats[kind])


def test_fault_batch_gap_gives_exact_header_stalls(bin_dir, cluster_factory):
    cl = cluster_factory(2)
    rc, client = run_pub(bin_dir, cl, "-s", str(16 * 1927 * MSG), "-n", "1", "-a", "1", "--batch-gap-ms", "200",
                         "--gap-every", "1", "--gap-count", "3", "--fault-broker", "1")
    logs = cl.stop()
    assert rc == 0 and "[Fault] batch_gap ms=200" in client
    assert len([m for m in stalls(logs[1], "header") if m.group(2) == "128"]) == 3
    assert all(int(m.group(1)) >= 150 for m in stalls(logs[1], "header") if m.group(2) == "128")
    for text in logs:
        assert not stalls(text, "partial") and not stalls(text, "payload")


def test_fault_header_pause_gives_partial_stalls_only(bin_dir, cluster_factory):
    cl = cluster_factory(2)
    rc, client = run_pub(bin_dir, cl, "-s", str(8 * 1927 * MSG), "-n", "1", "-a", "1", "--header-pause-ms", "150",
                         "--header-pause-count", "2", "--fault-broker", "0")
    logs = cl.stop()
    assert rc == 0
    assert len(stalls(logs[0], "partial")) == 2 and not stalls(logs[0], "header")
    assert kv_line(logs[0], "[BrokerMetrics]")[0]["stalls_partial"] == 2


def test_fault_payload_pause_gives_payload_stalls(bin_dir, cluster_factory):
    cl = cluster_factory(1)
    rc, _ = run_pub(bin_dir, cl, "-s", str(6 * 1927 * MSG), "-n", "1", "-a", "1", "--payload-pause-ms", "150",
                    "--payload-pause-count", "3", "--fault-broker", "0")
    (log,) = cl.stop()
    assert rc == 0
    found = stalls(log, "payload")
    assert len(found) == 3 and not stalls(log, "partial")
    assert [int(x) for x in re.findall(r"total_stall_count=(\d+)", log)] == [1, 2, 3]


def test_fault_ack_stall_short_on_one_broker(bin_dir, cluster_factory):
    cl = cluster_factory(2, {1: ["--ack-stall-after", "1"]})
    rc, client = run_pub(bin_dir, cl, "-s", str(12 * 1927 * MSG), "-n", "1", "-a", "1", "--ack-timeout-sec", "2")
    logs = cl.stop()
    assert rc == 2 and "[Phase] ack_timeout" in client
    assert "Publish test failed: ACK wait timed out" in client and "[Publisher ACK Timeout]" in client
    per = {int(b): (int(a), int(s), int(sh)) for b, a, s, sh in
           re.findall(r"B(\d+)=(\d+)\(sent=(\d+),short=(\d+)\)", client)}
    assert per[0][2] == 0 and per[1][2] > 0
    assert kv_line(logs[1], "[BrokerMetrics]")[0]["messages"] == per[1][1]


def test_fault_recv_delay_vs_producer_cost_tcp_info(bin_dir, cluster_factory, tmp_path):
    cl = cluster_factory(1, {0: ["--recv-delay-us", "2000"]})
    rc, client = run_pub(bin_dir, cl, "-s", str(8 * 1927 * MSG), "-n", "1", "-a", "1")
    cl.stop()
    assert rc == 0
    (tcp,), (send,) = kv_line(client, "[TcpInfo]"), kv_line(client, "[SendStats]")
    assert tcp["rwnd_limited_us"] > 0 and send["send_blocked_us"] > 100_000

    slow_dir = tmp_path / "slow"
    slow_dir.mkdir()
    cl2 = Cluster(bin_dir, slow_dir, 1)
    try:
        rc, client = run_pub(bin_dir, cl2, "-s", str(4 * 1927 * MSG), "-n", "1", "-a", "1",
                             "--producer-cost-ns", "40000")
    finally:
        (log,) = cl2.stop()
    assert rc == 0 and "[Fault] producer_cost ns_per_message=40000" in client
    (tcp,), (send,) = kv_line(client, "[TcpInfo]"), kv_line(client, "[SendStats]")
    assert tcp["rwnd_limited_us"] < 40_000 and send["send_blocked_us"] < 50_000
    assert len(stalls(log, "header")) >= 3


def test_fault_init_delay_logs_warnings(bin_dir, cluster_factory):
    cl = cluster_factory(1)
    rc, client = run_pub(bin_dir, cl, "-s", str(100 * MSG), "-n", "1", "-a", "1", "--init-delay-sec", "5")
    cl.stop()
    assert rc == 0
    assert "Publisher::Init() waiting for cluster connection... (5s elapsed)" in client
    assert "Hugepages: 6144 free \u00d7 2048 kB = 12288 MB free; need 131082 MB." in client
    assert "MAP_HUGETLB failed after 3 retries for 137451536384 bytes." in client


def test_fault_close_mid_header_logged(bin_dir, cluster_factory):
    cl = cluster_factory(1)
    rc, _ = run_pub(bin_dir, cl, "-s", str(2 * 1927 * MSG), "-n", "1", "-a", "1", "--close-mid-header")
    (log,) = cl.stop()
    assert rc == 0
    assert "Connection closed by publisher during partial batch header read." in log
    assert "[BrokerMetrics]" in log


def test_fault_linger_header_stall_then_close(bin_dir, cluster_factory):
    cl = cluster_factory(1)
    rc, _ = run_pub(bin_dir, cl, "-s", str(2 * 1927 * MSG), "-n", "1", "-a", "1", "--linger-sec", "1")
    (log,) = cl.stop()
    assert rc == 0
    lines = log.splitlines()
    idx = [i for i, ln in enumerate(lines) if re.search(r"bytes_read=0$", ln)]
    assert len(idx) == 1
    assert int(re.search(r"blocked (\d+)ms", lines[idx[0]]).group(1)) >= 900
    # The next line of the same thread (glog's third field): the ACK thread may log its own close in between.
    tid = lines[idx[0]].split()[2]
    following = next(ln for ln in lines[idx[0] + 1:] if ln.split()[2:3] == [tid])
    assert "Connection closed by publisher (client_id=4242" in following


def test_fault_consume_delay_ring_full(bin_dir, cluster_factory):
    cl = cluster_factory(1, {0: ["--consume-delay-ms", "40", "--ring-slots", "2"]})
    rc, _ = run_pub(bin_dir, cl, "-s", str(8 * 1927 * MSG), "-n", "4", "-a", "1")
    (log,) = cl.stop()
    assert rc == 0
    assert len(msgs(log, r"Ring full, waiting for space \(client_id=4242, wait_iterations=\d+, "
                         r"total_ring_full=\d+\)")) >= 2


def test_notimers_build_logs_no_stalls(bin_dir, cluster_factory):
    cl = cluster_factory(1, binary="refbroker-notimers")
    rc, _ = run_pub(bin_dir, cl, "-s", str(3 * 1927 * MSG), "-n", "1", "-a", "1", "--batch-gap-ms", "120")
    (log,) = cl.stop()
    assert rc == 0 and "[STALL]" not in log
    m = kv_line(log, "[BrokerMetrics]")[0]
    assert m["stalls_header"] == 0 and m["stall_timers"] == 0 and m["messages"] == 3 * 1927


def test_ring_over_limit_refuses_to_start(bin_dir, tmp_path):
    proc = subprocess.run([str(bin_dir / "refbroker"), "--port", str(free_port()), "--ring-slots", "1000"],
                          capture_output=True, text=True, timeout=10)
    assert proc.returncode == 5 and "exceeds --ring-max-mb" in proc.stderr


# --- robustness with a raw Python client -------------------------------------------------------------


def handshake(cid: int, port: int, request: int = 0) -> bytes:
    return struct.pack("<IIQQII32s", cid, 1, 1, 0, port, request, b"TestTopic")


def batch(cid: int, seq: int, num: int, total: int | None = None) -> tuple[bytes, bytes]:
    size = num * PADDED if total is None else total
    hdr = struct.pack("<QIIIIIHHQQQQQQQ40s", seq, cid, num, 0, 0, 0, 0, 0, 0, 0, size, 128, 0, 0, 0, b"")
    rec = struct.pack("<QQQQQQQQ", PADDED, 0, 2**64 - 1, 0, 0, 0, cid, MSG) + b"x" * (PADDED - 64)
    return hdr, rec * num


def wait_for(path: Path, text: str, timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert time.monotonic() < deadline, f"{text!r} not logged"
        time.sleep(0.02)


BAD_CASES = {
    "garbage_handshake": ("Invalid handshake on broker 0 (client_id=", None),
    "oversize_total_size": ("Invalid batch header from client_id=77", 2097280),
    "close_mid_header": ("Connection closed by publisher during partial batch header read.", 40),
    "killed_mid_payload": ("Connection closed while receiving message data", 0),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_robustness_bad_connection_isolated(bin_dir, cluster_factory, case):
    cl = cluster_factory(1)
    expected, arg = BAD_CASES[case]
    with socket.socket() as ack_l, socket.create_connection(("127.0.0.1", cl.ports[0]), timeout=5) as good, \
            socket.create_connection(("127.0.0.1", cl.ports[0]), timeout=5) as bad:
        ack_l.bind(("127.0.0.1", 0))
        ack_l.listen(1)
        ack_l.settimeout(5)
        good.sendall(handshake(55, ack_l.getsockname()[1]))
        ack, _ = ack_l.accept()
        ack.settimeout(5)
        if case == "garbage_handshake":
            bad.sendall(bytes(range(7, 71)))
        else:
            bad.sendall(handshake(77, 0))
            hdr, payload = batch(77, 0, 10, arg if case == "oversize_total_size" else None)
            if case == "close_mid_header":
                bad.sendall(hdr[:40])
            elif case == "killed_mid_payload":
                bad.sendall(hdr + payload[: len(payload) // 2])
            else:
                bad.sendall(hdr)
        if case in ("close_mid_header", "killed_mid_payload"):
            bad.close()
        wait_for(cl.logs[0], expected)
        for seq in range(2):
            hdr, payload = batch(55, seq, 100)
            good.sendall(hdr + payload)
        assert struct.unpack("<i", ack.recv(4, socket.MSG_WAITALL))[0] == 0
        value = 0
        while value < 200:
            value = struct.unpack("<Q", ack.recv(8, socket.MSG_WAITALL))[0]
        assert value == 200
        ack.close()
    (log,) = cl.stop()
    m = kv_line(log, "[BrokerMetrics]")[0]
    assert m["messages"] == 200 and m["acked"] == 200 and m["connections"] == 2


def test_sigterm_exits_within_two_seconds(bin_dir, cluster_factory):
    cl = cluster_factory(1)
    with socket.create_connection(("127.0.0.1", cl.ports[0]), timeout=5) as s:
        s.sendall(handshake(9, 0))
        time.sleep(0.3)
        t0 = time.monotonic()
        cl.procs[0].send_signal(signal.SIGTERM)
        rc = cl.procs[0].wait(timeout=5)
        elapsed = time.monotonic() - t0
    assert rc == 0 and elapsed < 2.0
    assert "[BrokerMetrics] broker=0" in cl.logs[0].read_text()

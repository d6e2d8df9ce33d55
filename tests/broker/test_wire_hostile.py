"""The broker trusts no header: forged message counts, a second publisher, and a flood of 2,000 connections.

A raw Python publisher speaks the wire protocol by hand (reference/embarcadero-dialect.md section 4) and reads
its own ACK channel, so every ACK value the broker sends is checked, not only the last one.
"""
from __future__ import annotations

import random
import resource
import socket
import struct
import time
from pathlib import Path

import pytest

from .test_refbroker import PADDED, Cluster, batch, handshake, kv_line, wait_for

FLOOD = 2000
CAP = 64
BROKER_OWN_THREADS = 3  # main (signal wait), accept loop, consumer


class RawPublisher:
    """One publisher: a data connection after its handshake, and the ACK channel the broker opens back."""

    def __init__(self, port: int, client_id: int) -> None:
        self.client_id, self.seq, self.sent, self.acked = client_id, 0, 0, 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(1)
        self.listener.settimeout(5)
        self.data = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.data.sendall(handshake(client_id, self.listener.getsockname()[1]))
        self.ack, _ = self.listener.accept()
        self.ack.settimeout(5)
        assert struct.unpack("<i", self.ack.recv(4, socket.MSG_WAITALL))[0] == 0

    def send(self, num: int) -> None:
        hdr, payload = batch(self.client_id, self.seq, num)
        self.data.sendall(hdr + payload)
        self.seq += 1
        self.sent += num

    def ack_reaches(self, timeout: float = 10) -> None:
        """Read ACK values until they reach what was sent; none may ever exceed it."""
        deadline = time.monotonic() + timeout
        while self.acked < self.sent:
            assert time.monotonic() < deadline, f"client {self.client_id}: ACK {self.acked} of {self.sent}"
            value = struct.unpack("<Q", self.ack.recv(8, socket.MSG_WAITALL))[0]
            assert self.acked <= value <= self.sent, f"client {self.client_id}: ACK {value}, sent {self.sent}"
            self.acked = value

    def no_further_ack(self, quiet_s: float = 0.5) -> None:
        """No ACK value beyond what was sent arrives afterwards."""
        self.ack.settimeout(quiet_s)
        try:
            extra = self.ack.recv(8)
        except TimeoutError:
            extra = b""
        finally:
            self.ack.settimeout(5)
        assert extra == b"", f"client {self.client_id}: unexpected ACK bytes {extra!r} after {self.sent}"

    def close(self) -> None:
        for s in (self.data, self.ack, self.listener):
            s.close()


def forged(client_id: int, num_msg: int, total_size: int, records: int) -> bytes:
    """A handshake without ACK channel, then one batch whose header claims num_msg over `records` real records."""
    hdr = struct.pack("<QIIIIIHHQQQQQQQ40s", 0, client_id, num_msg, 0, 0, 0, 0, 0, 0, 0, total_size, 128, 0, 0, 0,
                      b"")
    rec = struct.pack("<QQQQQQQQ", PADDED, 0, 2**64 - 1, 0, 0, 0, client_id, 1024) + b"x" * (PADDED - 64)
    return handshake(client_id, 0) + hdr + rec * records


@pytest.fixture
def one_broker(bin_dir: Path, tmp_path: Path):
    """Starts one refbroker with extra flags; stopped at the end whatever happened."""
    made: list[Cluster] = []

    def make(*flags: str) -> Cluster:
        made.append(Cluster(bin_dir, tmp_path, 1, {0: list(flags)}))
        return made[-1]

    yield make
    for c in made:
        c.stop()


def _closed(s: socket.socket) -> bool:
    """The broker closed this connection (FIN, or RST when it left our bytes unread)."""
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True


def threads_of(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no Threads: line")


@pytest.fixture
def nofile_for_flood():
    """Raise this process's soft open-file limit for the flood (the hard limit and other processes untouched)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = FLOOD + 512
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"hard open-file limit {hard} < {need}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, need), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_forged_counts_are_refused_and_acks_stay_per_publisher(one_broker):
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    cl = one_broker()
    port = cl.ports[0]
    a, b = RawPublisher(port, 101), RawPublisher(port, 202)
    # The case (2^32-1 messages in one 64-byte record), counts a payload cannot hold, and counts the
    # header could hold but the records do not match (more or fewer than the payload carries).
    n = rng.randint(2, 50)
    cases = [
        (0xFFFFFFFF, 64, 0),
        (n * PADDED // 64 + 1, n * PADDED, n),
        (n * PADDED // 64, n * PADDED, n),
        (n + 1, n * PADDED, n),
        (n - 1, n * PADDED, n),
    ]
    for i, (num, total, records) in enumerate(cases):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(forged(300 + i, num, total, records))
            assert _closed(s), f"case {i} (seed {seed}): the broker kept a forged connection open"
        for _ in range(rng.randint(1, 3)):
            (a if rng.random() < 0.5 else b).send(rng.randint(1, 1927))
    a.send(1)
    b.send(1)
    for p in (a, b):
        p.ack_reaches()
        p.no_further_ack()
        p.close()
    (log,) = cl.stop()
    m = kv_line(log, "[BrokerMetrics]")[0]
    assert m["messages"] == a.sent + b.sent and m["acked"] == a.sent + b.sent, seed
    assert m["invalid_batches"] == len(cases), seed
    assert "num_msg=4294967295 needs at least 274877906880 bytes" in log
    assert log.count("Invalid batch header from client_id=") == 2
    assert log.count("Invalid batch payload from client_id=") == 3
    assert m["ack_sent"] == max(a.sent, b.sent), seed


def _closed_by_peer(socks: list[socket.socket]) -> int:
    """How many of these non-blocking sockets the broker has closed."""
    n = 0
    for s in socks:
        try:
            n += s.recv(1) == b""
        except BlockingIOError:
            pass
        except ConnectionResetError:
            n += 1
    return n


def test_flood_of_2000_connections_stays_under_the_cap(one_broker, nofile_for_flood):
    cl = one_broker("--max-connections", str(CAP))
    port, pid = cl.ports[0], cl.procs[0].pid
    good = RawPublisher(port, 4242)  # its data connection and ACK channel take 2 of the CAP channels
    good.send(500)
    good.ack_reaches()
    admitted = CAP - 2
    held: list[socket.socket] = []
    peak = threads_of(pid)
    try:
        for i in range(FLOOD):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            if i % 2:
                s.sendall(handshake(9000 + i, 0)[:10])  # a handshake that never completes: held open
            s.setblocking(False)
            held.append(s)
            if i % 100 == 0:
                peak = max(peak, threads_of(pid))
                good.send(1927)
        wait_for(cl.logs[0], "connection cap reached")
        # Refused connections are closed at once, admitted ones stay open: wait until the broker has
        # looked at every one of them.
        deadline = time.monotonic() + 10
        while (refused := _closed_by_peer(held)) < FLOOD - admitted and time.monotonic() < deadline:
            peak = max(peak, threads_of(pid))
            time.sleep(0.05)
        peak = max(peak, threads_of(pid))
        good.send(7)
        good.ack_reaches()
        assert cl.procs[0].poll() is None, "the broker died under the flood"
        assert refused == FLOOD - admitted, f"{refused} connections closed, {FLOOD - admitted} expected"
        assert peak <= CAP + BROKER_OWN_THREADS, f"{peak} threads for a cap of {CAP}"
        print(f"flood of {FLOOD}: {refused} refused, at most {peak} broker threads (cap {CAP})")
    finally:
        for s in held:
            s.close()
    good.no_further_ack()
    # Once the flood is gone, a new publisher is served again.
    deadline = time.monotonic() + 10
    while "closed during handshake" not in cl.logs[0].read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    late = RawPublisher(port, 5151)
    late.send(33)
    late.ack_reaches()
    good.no_further_ack()
    for p in (good, late):
        p.close()
    (log,) = cl.stop()
    m = kv_line(log, "[BrokerMetrics]")[0]
    assert m["refused"] == FLOOD - admitted
    assert m["acked"] == good.sent + late.sent and m["messages"] == good.sent + late.sent
    assert m["connections"] == 1 + admitted + 1  # data connections only (ACK channels are outgoing)
    assert "--max-connections=64" in log

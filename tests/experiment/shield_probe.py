"""The shield of ``interrupts.shielded`` probed in a process of its own (one thread, as the runner is when it
starts its helpers): run by tests/experiment/test_run_interrupts.py; prints "shield ok" or fails an assertion."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

from stallscope.experiment import interrupts


def _ignored_by(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("SigIgn:")), 16)


def main() -> None:
    stop_bits = sum(1 << (s - 1) for s in interrupts.STOP_SIGNALS)
    inherited = _ignored_by(os.getpid()) & stop_bits  # e.g. SIGHUP under nohup: ignored already, not by us
    with interrupts.shielded():  # no handlers installed: nothing changes
        child = subprocess.Popen(["sleep", "5"])
    try:
        assert _ignored_by(child.pid) & stop_bits == inherited
    finally:
        child.kill()
        child.wait(timeout=10)
    assert interrupts.install()
    try:
        with interrupts.shielded():
            child = subprocess.Popen(["sleep", "5"])
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(child.pid, signal.SIGINT)
            time.sleep(0.05)
            assert not interrupts.requested()  # held back, not lost
        try:
            assert _ignored_by(child.pid) & stop_bits == stop_bits
            assert child.poll() is None  # the ^C did not kill it
        finally:
            child.kill()
            child.wait(timeout=10)
        time.sleep(0.05)
        assert interrupts.received() == ["SIGINT"]
        os.kill(os.getpid(), signal.SIGTERM)  # after the block, recorded as before
        time.sleep(0.05)
        assert interrupts.received() == ["SIGINT", "SIGTERM"]
        # Another thread could take a signal while it is ignored, and drop it: then there is no shield.
        stop = threading.Event()
        other = threading.Thread(target=stop.wait, args=(10,))
        other.start()
        try:
            with interrupts.shielded():
                child = subprocess.Popen(["sleep", "5"])
        finally:
            stop.set()
            other.join(timeout=10)
        try:
            assert _ignored_by(child.pid) & stop_bits == 0  # our handlers replaced any inherited ignore
        finally:
            child.kill()
            child.wait(timeout=10)
    finally:
        interrupts.restore()


if __name__ == "__main__":
    main()
    print("shield ok")

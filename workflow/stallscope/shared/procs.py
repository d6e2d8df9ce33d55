"""The kernel's parent-death signal, for every child stallscope starts (brokers, publishers, a parse's second half)."""

from __future__ import annotations

import ctypes

PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def set_parent_death_signal(sig: int) -> None:
    """Ask the kernel to send ``sig`` to this process when its parent dies (Linux only; best effort)."""
    try:
        _libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (AttributeError, OSError):
        pass

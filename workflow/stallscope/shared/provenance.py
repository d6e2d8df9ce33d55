"""Facts a run records about where and with what it ran: commits (GitPython), host, SLURM job."""

from __future__ import annotations

import hashlib
import os
import platform
import socket
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import git

import stallscope
from stallscope.errors import StallscopeError

PACKAGE_ROOT = Path(stallscope.__file__).resolve().parents[2]


def utc_now() -> str:
    """Current time as ISO 8601 UTC with seconds."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _repo(path: Path) -> git.Repo | None:
    try:
        return git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None


def git_facts(path: str | Path) -> dict[str, Any]:
    """Describe the commit of the tree at ``path``, restricted to that path.

    The commit is the last one that touched ``path`` (for a broker in its own repository, that is HEAD;
    for the reference broker inside this repository it keeps report-only edits from renaming every run),
    and the tree is dirty when ``path`` has uncommitted or untracked changes; the diff hash keeps dirty
    results of different edits apart.

    Returns keys: id, commit, is_dirty, diff_sha256, commit_date, commit_subject, source.
    """
    p = Path(path).resolve()
    if not p.exists():
        raise StallscopeError(p, None, "source directory does not exist")
    repo = _repo(p)
    if repo is None or not repo.head.is_valid():
        return {"id": "unknown", "commit": None, "is_dirty": None, "diff_sha256": None,
                "commit_date": None, "commit_subject": None, "source": str(p)}
    root = Path(repo.working_tree_dir or p)
    rel = os.path.relpath(p, root)
    spec = [] if rel == "." else [rel]
    commits = list(repo.iter_commits(paths=spec, max_count=1)) if spec else [repo.head.commit]
    commit = commits[0] if commits else repo.head.commit
    diff = repo.git.diff("HEAD", "--binary", "--", *spec) if spec else repo.git.diff("HEAD", "--binary")
    untracked = sorted(f for f in repo.untracked_files if not spec or f == rel or f.startswith(rel.rstrip("/") + "/"))
    h = hashlib.sha256(diff.encode("utf-8", "surrogateescape"))
    for name in untracked:
        h.update(name.encode())
        fp = root / name
        if fp.is_file():
            h.update(fp.read_bytes())
    is_dirty = bool(diff) or bool(untracked)
    sut = commit.hexsha[:12] + (f"-dirty-{h.hexdigest()[:8]}" if is_dirty else "")
    return {
        "id": sut,
        "commit": commit.hexsha,
        "is_dirty": is_dirty,
        "diff_sha256": h.hexdigest() if is_dirty else None,
        "commit_date": commit.committed_datetime.isoformat(),
        "commit_subject": commit.summary if isinstance(commit.summary, str) else commit.summary.decode(),
        "source": str(p),
    }


def stallscope_facts() -> dict[str, Any]:
    """Version and commit of stallscope itself (the whole repository counts for dirtiness): the code this process
    imported, so read once per process (asking git was a quarter of a small run's assessment)."""
    return dict(_stallscope_facts())


@cache
def _stallscope_facts() -> dict[str, Any]:
    repo = _repo(PACKAGE_ROOT)
    if repo is None or not repo.head.is_valid():
        return {"version": stallscope.__version__, "commit": None, "is_dirty": None}
    return {
        "version": stallscope.__version__,
        "commit": repo.head.commit.hexsha,
        "is_dirty": repo.is_dirty(untracked_files=False),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


def host_facts() -> dict[str, Any]:
    """Host name, kernel, CPU model, online cores and memory."""
    return {
        "hostname": socket.gethostname(),
        "kernel": platform.release(),
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_bytes": _memory_bytes(),
    }


def slurm_facts() -> dict[str, Any]:
    """The SLURM job id and node, when the run is a SLURM job."""
    return {"job_id": os.environ.get("SLURM_JOB_ID"), "node": os.environ.get("SLURMD_NODENAME")}


def utc_offset_s() -> int:
    """Local time minus UTC, seconds (glog prints local time)."""
    off = datetime.now().astimezone().utcoffset()
    return int(off.total_seconds()) if off else 0


def sha256_file(path: str | Path) -> str:
    """Hash a file in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

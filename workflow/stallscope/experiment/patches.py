"""Patches applied to the broker's source before the build (``sut.patches``), in a worktree of their own.

Researchers answer questions about a broker by patching it (the seed's ``[STALL]`` timers were a patch). The
patched tree is a ``git worktree`` of the source's repository at the source's commit, under the worktree cache
(``results/baseline-src/<commit[:12]>-patched-<digest>``), and the patches are applied there with ``git apply``:
the user's checkout, index and branch are never touched. The results are named by the commit plus the patches'
digest (``<commit[:12]>-patched-<8 hex>``), like a dirty tree's ``-dirty-<8 hex>``, so patched and unpatched
results of one commit never overwrite each other, and ``build.json`` keeps each patch's sha256.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.experiment.worktree import DEFAULT_CACHE, repo_of, worktree_source
from stallscope.shared.provenance import sha256_file

PATCHED = "-patched-"
#: Written into the worktree once every patch applied: a tree without it was left half patched and is remade.
MARKER = ".stallscope-patches"
GIT_TIMEOUT_S = 120


def patch_facts(paths: list[str] | list[Path]) -> list[dict[str, str]]:
    """Each patch file's path (as given) and sha256, in the order they apply; one clear error for a missing one."""
    out = []
    for p in paths:
        path = Path(p)
        if not path.is_file():
            raise StallscopeError(path, None, "patch file (sut.patches) not found")
        out.append({"path": str(p), "sha256": sha256_file(path)})
    return out


def patch_digest(facts: list[dict[str, str]]) -> str:
    """One digest of the patches in their order (a reordered list is another tree)."""
    return hashlib.sha256("\n".join(f["sha256"] for f in facts).encode()).hexdigest()


def patched_id(sut_id: str, facts: list[dict[str, str]]) -> str:
    """``sut_id`` with ``-patched-<8 hex>`` when there are patches, unchanged otherwise."""
    return sut_id + (PATCHED + patch_digest(facts)[:8] if facts else "")


def _apply(tree: Path, facts: list[dict[str, str]], commit: str) -> None:
    for f in facts:
        argv = ["git", "-C", str(tree), "apply", "--whitespace=nowarn", str(Path(f["path"]).resolve())]
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise StallscopeError(f["path"], None, f"git apply timed out after {GIT_TIMEOUT_S} s") from None
        if res.returncode != 0:
            why = (res.stderr.strip().splitlines() or ["git apply failed"])[0]
            raise StallscopeError(f["path"], None, f"patch does not apply to {commit[:12]}: {why}")


def _remove(source: Path, tree: Path) -> None:
    repo = repo_of(source)
    try:
        repo.git.worktree("remove", "--force", str(tree))
    except Exception:  # noqa: BLE001 - a folder git no longer knows: remove it by hand, then forget it
        shutil.rmtree(tree, ignore_errors=True)
        repo.git.worktree("prune")


def patched_source(source: Path, commit: str, facts: list[dict[str, str]], cache: Path = DEFAULT_CACHE) -> Path:
    """``source`` as of ``commit`` with the patches applied, in ``<cache>/<commit[:12]>-patched-<8 hex>``.

    Reused when a previous call finished patching it; a tree left half patched (an interrupted call, a patch that
    failed) is removed and made again, so a failed patch never leaves a tree that a later build would take.
    """
    src = Path(source).resolve()
    digest = patch_digest(facts)
    tree = (Path(cache) / (commit[:12] + PATCHED + digest[:8])).resolve()
    marker = tree / MARKER
    if tree.is_dir() and marker.is_file() and marker.read_text().strip() == digest:
        return worktree_source(src, commit, tree)
    if tree.exists():
        _remove(src, tree)
    out = worktree_source(src, commit, tree)
    try:
        _apply(tree, facts, commit)
    except StallscopeError:
        _remove(src, tree)
        raise
    marker.write_text(digest + "\n")
    return out


def patch_paths(sut: dict[str, Any], baseline: bool) -> list[str]:
    """The patches of the candidate (``sut.patches``) or of the baseline (``sut.baseline_patches``, by default the
    candidate's: a before/after of two commits compares them as patched alike)."""
    if baseline and "baseline_patches" in sut:
        return list(sut["baseline_patches"] or [])
    return list(sut.get("patches") or [])

"""Build the broker under test and record what was built (commit, compiler, flags, binary hashes).

Reads the broker source named in the config; writes ``<out>/bin/*`` and ``<out>/build.json``. What is the same
for every SUT lives here (the source, its patches, build.json); how it is built is its adapter's
(``suts.for_kind(sut.kind).build``).
"""

from __future__ import annotations

from pathlib import Path

from stallscope import schemas
from stallscope.errors import StallscopeError
from stallscope.experiment import suts
from stallscope.experiment.config import load_config
from stallscope.experiment.patches import patch_facts, patch_paths, patched_id, patched_source
from stallscope.experiment.worktree import DEFAULT_CACHE
from stallscope.shared.provenance import git_facts, sha256_file, utc_now


def build_broker(config_path: Path, out_dir: Path, source: Path | None = None, werror: bool = False,
                 patches: list[str] | None = None, worktrees: Path = DEFAULT_CACHE) -> Path:
    """Build the configured broker into ``out_dir/bin`` and write ``out_dir/build.json``.

    ``patches`` (default: the config's ``sut.patches``) are applied in a worktree under ``worktrees`` first; the
    build then names the commit plus the patches' digest and records each patch's sha256.
    """
    cfg = load_config(config_path)
    sut = cfg["sut"]
    src = Path(source or sut["source"]).resolve()
    if not src.is_dir():
        raise StallscopeError(src, None, "broker source directory not found")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    facts = git_facts(src)
    pfacts = patch_facts(patch_paths(sut, baseline=False) if patches is None else patches)
    if pfacts:
        if facts["commit"] is None:
            raise StallscopeError(src, None, "sut.patches needs the source in a git repository with a commit")
        if facts["is_dirty"]:
            raise StallscopeError(src, None, "sut.patches: the source has uncommitted changes a patched build "
                                  "(a worktree at its commit) would leave out; commit them or make them a patch")
        src = patched_source(src, facts["commit"], pfacts, worktrees)
        facts = {**facts, "id": patched_id(facts["id"], pfacts), "patches": pfacts}
    adapter = suts.for_kind(sut["kind"])
    werror = werror and adapter.honours_werror
    names, cfacts = adapter.build(sut, src, out, werror)
    data = {
        "schema": "build/1",
        "sut": facts,
        "kind": sut["kind"],
        "bin_dir": str((out / "bin").resolve()),
        "binaries": {n: sha256_file(out / "bin" / n) for n in names},
        "compiler": cfacts["compiler"],
        "compiler_version": cfacts["compiler_version"],
        "flags": cfacts["flags"],
        "werror": werror,
        "command": cfacts["command"],
        "built_utc": utc_now(),
    }
    for key in ("build_wall_s", "jobs", "cpu_count", "stall_timers"):
        if key in cfacts:
            data[key] = cfacts[key]
    return schemas.write_json(out / "build.json", "build", data)

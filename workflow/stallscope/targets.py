"""Paths the workflow asks for, derived from the validated config (used by workflow/rules/common.smk).

Snakemake glue, so it sits above the stages next to the CLI: it may read any stage's layout (the ingest's run
tags, the report's templates) without a stage reaching into another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stallscope.errors import StallscopeError
from stallscope.experiment.config import validate_config
from stallscope.shared.provenance import git_facts
from stallscope.shared.trialtag import TrialTag

SUT_PATTERN = r"[0-9a-f]{12}(-dirty-[0-9a-f]{8})?(-patched-[0-9a-f]{8})?"
INGESTED_PREFIX = "ingested-"


def checked_config_or_exit(config: dict[str, Any], path: str | Path) -> str:
    """For the Snakefile: validate ``config`` in place (filling defaults) and return the SUT id; on a bad value
    print one line (``path: at $.key: ...``) and exit 1, instead of Snakemake's multi-line schema dump."""
    shown = Path(path)
    if shown.is_absolute() and shown.is_relative_to(Path.cwd()):
        path = shown.relative_to(Path.cwd())
    try:
        validate_config(config, path)
        return sut_id(config)
    except StallscopeError as exc:
        raise SystemExit(str(exc)) from None
    except ValueError as exc:
        raise SystemExit(f"{path}: at $.sut.source: {exc}") from None


def config_file_for_stages(given: list[Any] | tuple[Any, ...], default: str) -> str:
    """The one config file the stages read: the ``--configfile`` given (relative to the working directory when
    inside it), else the Snakefile's default.

    Snakemake merges several ``--configfile`` into one config, but each stage reads a file of its own: with more
    than one given, the stages would read another config than the DAG; refuse in one line instead."""
    if len(given) > 1:
        raise SystemExit(f"give one --configfile (got {len(given)}: " + ", ".join(map(str, given))
                         + "): the stages read a single config file")
    if not given:
        return default
    path = Path(given[0])
    # Relative to the working directory when inside it: a params change (a rerun) must not follow a moved copy.
    return str(path.relative_to(Path.cwd())) if path.is_absolute() and path.is_relative_to(Path.cwd()) else str(path)


def only_stages_config(config: dict[str, Any], path: str | Path, default: str) -> None:
    """Make the DAG's ``config`` the one file the stages read (in place).

    Snakemake extends the Snakefile's ``configfile:`` with ``--configfile``: the shipped config's scenarios would
    join another config's (``config/embarcadero.yaml`` would run the reference broker's fault scenarios). The
    stages read ``path`` alone, so the DAG must too; a file that cannot be read is left to the stages' own error.
    """
    if str(path) == default:
        return
    import yaml

    from stallscope import schemas

    try:
        with open(path, encoding="utf-8") as fh:
            data = schemas.load_yaml(fh)
    except (OSError, ValueError, yaml.YAMLError):
        return
    if isinstance(data, dict):
        config.clear()
        config.update(data)


def sut_id(cfg: dict[str, Any]) -> str:
    """The id of the broker source's commit (with the dirty suffix, and the patches' digest when ``sut.patches``
    names any), naming every result of this DAG."""
    from stallscope.experiment.patches import patch_facts, patch_paths, patched_id

    sut = git_facts(cfg["sut"]["source"])["id"]
    if sut == "unknown":
        raise ValueError(f"sut.source {cfg['sut']['source']!r} is not inside a git repository with a commit")
    return patched_id(sut, patch_facts(patch_paths(cfg["sut"], baseline=False)))


def trials(cfg: dict[str, Any], scenario: str) -> list[str]:
    """Trial wildcards (t1, t2, ...) of one scenario."""
    sc = cfg["scenarios"][scenario]
    n = sc.get("trials", cfg["defaults"]["trials"])  # the schema filled the default in
    return [str(TrialTag(i)) for i in range(1, int(n) + 1)]


def run_dirs(cfg: dict[str, Any], sut: str, scenarios: list[str] | None = None) -> list[str]:
    """Run directories of every (scenario, trial) of ``sut``, or of the named scenarios only."""
    names = scenarios if scenarios is not None else list(cfg["scenarios"])
    return [f"results/runs/{sut}/{s}/{t}" for s in names for t in trials(cfg, s)]


def ingested_suts(cfg: dict[str, Any]) -> list[str]:
    """One pseudo-SUT per ingested log directory: its assessment stands alone."""
    return [INGESTED_PREFIX + name for name in (cfg.get("ingest") or {})]


def assessed_run_dirs(cfg: dict[str, Any], sut: str) -> list[str]:
    """The run directories one assessment reads: the scenarios of a built SUT, or the ingested runs (one, or one per
    attempt of a multi-client driver's log)."""
    if sut.startswith(INGESTED_PREFIX):
        from stallscope.logs.ingest import run_tags

        name = sut[len(INGESTED_PREFIX):]
        return [f"results/runs/{sut}/{name}/{t}" for t in run_tags(cfg["ingest"][name])]
    return run_dirs(cfg, sut)


def template_files() -> list[str]:
    """The report's templates and style sheets: inputs of the report rule, so editing one reruns only it."""
    root = Path(__file__).resolve().parent / "render" / "templates"
    return sorted(str(p) for p in root.iterdir() if p.is_file())


def ingest_attempt_args(src: str, trial: str) -> list[str]:
    """The ``stallscope ingest`` option that writes run ``trial`` of ``src`` alone: none when the folder is one
    run, ``--attempt=<trial>`` when it holds several (a driver's attempts, per-trial files)."""
    from stallscope.logs.ingest import run_tags

    return [] if run_tags(Path(src)) == [str(TrialTag(1))] else [f"--attempt={trial}"]


def fault_free(scenarios: list[str] | tuple[str, ...], config: dict[str, Any]) -> list[str]:
    """The configured ``scenarios`` that inject no fault (no ``faults`` knob set, no shaped ``network``): a scenario
    that fails by design on both commits must not settle whether a change fixed the problem."""
    out = []
    for name in scenarios:
        scn = (config.get("scenarios") or {}).get(name)
        if scn is not None and not any((scn.get("faults") or {}).values()) and not scn.get("network"):
            out.append(name)
    return out

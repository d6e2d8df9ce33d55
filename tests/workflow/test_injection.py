"""No value a user can set reaches a shell: rules quote every value they did not make themselves.

Two checks. The structural one walks every rule's shell line and fails on a ``{params...}`` or ``{config...}``
substitution that is not quoted into one argument (``:q``); only Snakemake's own paths (input, output, log, and
wildcards, which the constraints built from validated names keep to letters, digits and ``_``) may stand bare.
The behavioural one writes hostile text (command substitution, backticks, ``;``, ``&&``, quotes, newlines) into
every string of the config a user controls (and into the config file's own path), runs the ingest-to-assessment
jobs for real, renders the other rules' commands with a dry run, and checks that a canary file never appears.
"""

from __future__ import annotations

import os
import shlex
import string
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.builders.logs import glog

from .conftest import REPO, git, make_workdir, venv_env

pytestmark = pytest.mark.snakemake

#: Snakemake-made names that may appear in a shell line unquoted
SAFE_FIELDS = ("input", "output", "log", "wildcards", "threads", "resources")


def _load_rules(workdir: Path, configfile: Path) -> list:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    cwd = os.getcwd()
    os.chdir(workdir)  # the workflow resolves sut.source against the working directory
    try:
        with SnakemakeApi(OutputSettings(quiet={"all"})) as api:
            wf = api.workflow(resource_settings=ResourceSettings(),
                              config_settings=ConfigSettings(configfiles=[configfile]),
                              snakefile=REPO / "Snakefile", workdir=workdir)
            return [(r.name, r.shellcmd) for r in wf._workflow.rules if r.shellcmd]
    finally:
        os.chdir(cwd)


def unsafe_substitutions(shellcmd: str) -> list[str]:
    """The fields of a shell template that could put a user's value into the shell unquoted."""
    bad = []
    for _, field, spec, _ in string.Formatter().parse(shellcmd):
        if field is None:
            continue
        root = field.split(".", 1)[0].split("[", 1)[0]
        if root == "config":
            bad.append(f"{{{field}}}: read config values in the stage, not in the shell line")
        elif root == "params" and not (spec or "").endswith("q"):
            bad.append(f"{{{field}}}: a value the rule did not make must be quoted ({{{field}:q}})")
        elif root not in SAFE_FIELDS + ("params",):
            bad.append(f"{{{field}}}: not a Snakemake-made path")
    return bad


def test_the_walk_finds_an_unquoted_param() -> None:
    assert unsafe_substitutions("stallscope ingest {params.src} --out {output.x}") != []
    assert unsafe_substitutions("x {config[ingest][y]}") != []
    assert unsafe_substitutions("x {some_global}") != []
    assert unsafe_substitutions("stallscope ingest -- {params.src:q} --out {output.x} 2> {log}") == []


def test_every_rule_quotes_what_it_did_not_make(tmp_path: Path) -> None:
    wd = make_workdir(tmp_path)
    rules = _load_rules(wd, wd / "config.yaml")
    assert len(rules) >= 9, rules  # every rule with a shell line was seen
    problems = {name: unsafe_substitutions(cmd) for name, cmd in rules}
    assert {k: v for k, v in problems.items() if v} == {}


def _payload(tag: str) -> str:
    """Text that runs `touch canary` under any unquoted or double-quoted shell interpolation."""
    return (f"{tag} $(touch canary) `touch canary` ; touch canary && touch canary | touch canary"
            f" ' \" \n touch canary \n")


def _canaries(*roots: Path) -> list[Path]:
    return [p for r in roots for p in r.rglob("canary") if p.is_file()]


def _write_logs(d: Path) -> None:
    """A small broker and client log pair in the Embarcadero dialect."""
    d.mkdir()
    (d / "broker_0.log").write_text("\n".join([
        glog("Wrote readiness signal to /tmp/ready", "12:00:00.000000"),
        glog("[STALL] recv batch header blocked 120ms client_id=1 bytes_read=0", "12:00:03.000000", sev="W"),
    ]) + "\n")
    (d / "client.log").write_text(glog("Publisher connected", "12:00:01.000000") + "\n")


def test_hostile_config_strings_run_nothing_and_a_directory_with_spaces_ingests(tmp_path: Path) -> None:
    root = tmp_path / _payload("root").replace("\n", "_")  # a working directory under a hostile name
    root.mkdir()
    wd = make_workdir(root)
    logs = root / ("logs with spaces " + _payload("ingest"))
    _write_logs(logs)
    cfg = yaml.safe_load((wd / "config.yaml").read_text())
    cfg["ingest"] = {"hostile": str(logs)}
    for sc in cfg["scenarios"].values():
        sc["description"] = _payload("description")
    cfgdir = wd / ("configs " + _payload("configfile"))
    cfgdir.mkdir()
    configfile = cfgdir / "config.yaml"
    configfile.write_text(yaml.safe_dump(cfg, sort_keys=False))
    exe = Path(sys.executable).parent / "snakemake"
    base = [str(exe), "--snakefile", str(REPO / "Snakefile"), "--directory", str(wd), "--configfile", str(configfile)]

    target = "results/assessment/ingested-hostile/claims.json"
    res = subprocess.run([*base, "--cores", "2", target], capture_output=True, text=True, timeout=600, cwd=wd,
                         env=venv_env())
    assert res.returncode == 0, res.stderr[-3000:]
    assert (wd / target).is_file()
    manifest = yaml.safe_load((wd / "results/runs/ingested-hostile/hostile/t1/manifest.json").read_text())
    assert manifest["sut"]["source"] == str(logs.resolve())

    dry = subprocess.run([*base, "-n", "--printshellcmds", "--forceall", "report"], capture_output=True, text=True,
                         timeout=300, cwd=wd, env=venv_env())
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "stallscope run --config=" in dry.stdout and "stallscope build --config=" in dry.stdout
    # each rendered command keeps the config file's path as one intact argument
    for cmd in _rendered_commands(dry.stdout):
        argv = shlex.split(cmd)
        cfg_args = [a for a in argv if a.startswith("--config=")]
        assert all(a == f"--config={configfile}" for a in cfg_args), cmd
    assert _canaries(tmp_path, Path.cwd()) == []


def _rendered_commands(out: str) -> list[str]:
    """The shell commands a ``--printshellcmds`` dry run prints (possibly spanning lines inside quotes)."""
    cmds, cur = [], None
    for line in out.splitlines(keepends=True):
        if cur is None and line.lstrip().startswith("stallscope "):
            cur = line
        elif cur is not None:
            cur += line
        if cur is not None:
            try:
                shlex.split(cur)
            except ValueError:
                continue  # an open quote: the command goes on
            cmds.append(cur.strip())
            cur = None
    return cmds


def test_external_command_lists_never_reach_a_shell(tmp_path: Path) -> None:
    """The external SUT's argument lists are run without a shell, whatever their text."""
    src = tmp_path / ("src " + _payload("source").replace("\n", "_"))
    src.mkdir()
    (src / "README").write_text("x\n")
    git(src, "init", "-q")
    git(src, "add", "-A")
    git(src, "commit", "-qm", "external")
    hostile = _payload("arg")
    cfg = yaml.safe_load((REPO / "tests/configs/small/config.yaml").read_text())
    cfg["sut"] = {
        "kind": "external", "source": str(src), "dialect": "embarcadero",
        "build_command": [["true", hostile, "{build_dir}"]],
        "binaries": [],
        "broker_command": ["true", hostile, "{port}", "{ready_file}"],
        "client_command": ["true", hostile, "{brokers}"],
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    exe = Path(sys.executable).parent / "stallscope"
    res = subprocess.run([str(exe), "build", f"--config={path}", "--out", str(tmp_path / "build")],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=venv_env())
    assert "Traceback" not in res.stderr
    assert _canaries(tmp_path) == []

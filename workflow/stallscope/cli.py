"""Command line: one subcommand per stage, each calling exactly one stage entry function.

Exit status: 0 once the outputs exist (whatever the verdicts), 1 for bad input or an unusable file or directory
(one line, ``path:line: msg``), 2 for usage errors, 3 for a bug (with a traceback), 4 when the output is in use
by another stallscope process, 130 on ^C. The README's table lists them.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from stallscope import __version__
from stallscope.errors import StallscopeError
from stallscope.outlock import OutputBusy

# Each subcommand is a pair side by side: `_<name>_arguments(s)` declares its options, `_cmd_<name>(a)` runs it.
# `subcommands()` at the bottom lists them (name, help line, the pair), in the order `stallscope --help` shows.


def _build_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    s.add_argument("--source", type=Path, default=None, help="broker source (default: from config)")
    s.add_argument("--out", type=Path, required=True, help="build directory, e.g. results/build/<sut>")
    s.add_argument("--werror", action="store_true", help="treat compiler warnings as errors")
    s.add_argument("--rev", default=None, help="build the source as of this git revision (the baseline), in a "
                   "git worktree under --worktrees, never a checkout of your tree")
    s.add_argument("--baseline", action="store_true", help="build the config's sut.baseline revision (as --rev)")
    s.add_argument("--worktrees", type=Path, default=Path("results/baseline-src"),
                   help="folder for baseline and patched worktrees, one per commit and patch set, reused "
                   "(default: results/baseline-src)")


def _cmd_build(a: argparse.Namespace) -> None:
    from stallscope.experiment.build import build_broker

    source, patches = a.source, None
    if a.rev is not None or a.baseline:
        from stallscope.experiment.baseline import baseline_source
        from stallscope.experiment.config import load_config
        from stallscope.experiment.patches import patch_paths

        sut = load_config(a.config)["sut"]
        rev = a.rev or sut.get("baseline")
        if not rev:
            raise StallscopeError(a.config, None, "--baseline needs sut.baseline (a git revision) in the config")
        source = baseline_source(source or Path(sut["source"]), rev, a.worktrees)
        patches = patch_paths(sut, baseline=True)
    build_broker(config_path=a.config, out_dir=a.out, source=source, werror=a.werror, patches=patches,
                 worktrees=a.worktrees)


def _run_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--config", type=Path, default=Path("config/config.yaml"))
    s.add_argument("--scenario", required=True)
    s.add_argument("--trial", type=int, default=1)
    s.add_argument("--build", type=Path, required=True, help="build.json of the broker build")
    s.add_argument("--out", type=Path, required=True, help="run directory to create")


def _cmd_run(a: argparse.Namespace) -> None:
    from stallscope.experiment import interrupts

    interrupts.install()  # before the heavier imports; kept until exit, so no signal can raise a traceback
    with interrupts.shielded():  # a ^C must not kill the `git version` GitPython runs on import
        from stallscope.experiment.run import run_scenario

    run_scenario(
        config_path=a.config, scenario=a.scenario, trial=a.trial, build_json=a.build, out_dir=a.out
    )


def _bench_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--build", type=Path, required=True, help="build.json of a reference build")
    s.add_argument("--out", type=Path, required=True, help="bench.json to write")
    s.add_argument("--repeats", type=int, default=3)
    s.add_argument("--total-bytes", type=int, default=10737418240)
    s.add_argument("--config", type=Path, default=None,
                   help="also measure the raw sink at the shape of each of this config's scenarios")
    s.add_argument("--sink-repeats", type=int, default=3, help="raw-sink publishes per scenario shape (--config)")
    s.add_argument("--max-repeats", type=int, default=None,
                   help="timers on/off: more interleaved pairs, up to this many samples each, until the interval of "
                   "their ratio excludes 1 +- --min-change (default: none)")
    s.add_argument("--min-change", type=float, default=0.05, help="smallest overhead worth reporting (0.05)")


def _cmd_bench(a: argparse.Namespace) -> None:
    from stallscope.experiment import interrupts

    interrupts.install()  # as for run: between two publishes a signal must still stop cleanly
    with interrupts.shielded():
        from stallscope.experiment.bench import bench_broker, sink_shapes
        from stallscope.experiment.config import load_config

    shapes = sink_shapes(load_config(a.config)) if a.config else []
    bench_broker(a.build, a.out, repeats=a.repeats, total_bytes=a.total_bytes, shapes=shapes,
                 sink_repeats=a.sink_repeats, max_repeats=a.max_repeats, min_change=a.min_change)


def _calibrate_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--config", type=Path, default=Path("config/config.yaml"), help="sut and run settings")
    s.add_argument("--build", type=Path, required=True, help="build.json of a reference build")
    s.add_argument("--seed", type=int, required=True, help="the same seed draws the same scenarios")
    s.add_argument("--draws", type=int, default=40, help="scenarios to draw and run")
    s.add_argument("--out", type=Path, required=True, help="confusion.json to write (draws run beside it)")


def _cmd_calibrate(a: argparse.Namespace) -> None:
    from stallscope.experiment import interrupts

    interrupts.install()  # as for run: between two draws a signal must still stop cleanly
    with interrupts.shielded():
        from stallscope.calibrate.stage import calibrate

    calibrate(a.config, a.build, a.seed, a.draws, a.out)


def _stall_timers_argument(s: argparse.ArgumentParser) -> None:
    """ingest and assess-logs: the same question about the logs' broker build."""
    s.add_argument("--stall-timers", choices=("yes", "no"), default=None,
                   help="whether the broker build logs [STALL] lines (default: known only from such lines)")


def _ingest_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("src", type=Path, help="directory with broker_*.log and client*.log, or one log of any name; "
                   "a multi-client driver's log (or its folder) gives one run per attempt")
    s.add_argument("--out", type=Path, required=True,
                   help="run directory to create (for a driver log: the folder of its t<k>a<a> runs)")
    s.add_argument("--scenario", default=None, help="scenario name (default: the directory name)")
    s.add_argument("--sut", default=None, help="commit of the system that wrote the logs, if known")
    s.add_argument("--attempt", default=None, help="driver logs only: write attempt t<k>a<a> alone, into --out")
    _stall_timers_argument(s)


def _cmd_ingest(a: argparse.Namespace) -> None:
    from stallscope.logs.ingest import ingest

    runs = ingest(a.src, a.out, scenario=a.scenario, sut=a.sut, attempt=a.attempt, stall_timers=a.stall_timers)
    if len(runs) > 1:
        print(f"stallscope ingest: {len(runs)} runs (one per attempt): {', '.join(str(r) for r in runs)}",
              file=sys.stderr)


def _parse_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("run_dir", type=Path)
    s.add_argument("--out", type=Path, default=None, help="output directory (default: the run directory)")


def _cmd_parse(a: argparse.Namespace) -> None:
    from stallscope.logs import compiled
    from stallscope.logs.parse import parse_run

    if not compiled.AVAILABLE:
        print("stallscope parse: the compiled line scanner is not built (no C compiler at install time); "
              "parsing with the numpy path, 3-4x slower", file=sys.stderr)
    parse_run(a.run_dir, out_dir=a.out)


def _metrics_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("run_dir", type=Path)
    s.add_argument("--out", type=Path, default=None, help="output file (default: <run_dir>/metrics.json)")


def _cmd_metrics(a: argparse.Namespace) -> None:
    from stallscope.analysis.metrics import compute_metrics

    compute_metrics(a.run_dir, out=a.out)


def _diagnose_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("runs", type=Path, nargs="+", help="run directories (with metrics.json)")
    s.add_argument("--out", type=Path, required=True, help="diagnoses.json to write")
    s.add_argument("--bench", type=Path, default=None, help="bench.json of `stallscope bench` (the raw sink)")


def _cmd_diagnose(a: argparse.Namespace) -> None:
    from stallscope.diagnose.stage import write_diagnoses

    write_diagnoses(a.runs, out=a.out, bench_path=a.bench)


def _assess_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("runs", type=Path, nargs="+", help="run directories (with metrics.json)")
    s.add_argument("--out", type=Path, required=True, help="claims.json to write")
    s.add_argument("--summary", type=Path, default=None,
                   help="summary.json to write (per-scenario statistics and verdicts; default: beside --out)")
    s.add_argument("--config", type=Path, default=None, help="config with the scenario table")
    s.add_argument("--allow-mixed", action="store_true", help="allow runs of different SUT commits or hosts")
    s.add_argument("--bench", type=Path, default=None, help="bench.json of `stallscope bench` (timers' overhead)")
    s.add_argument("--diagnoses", type=Path, default=None,
                   help="diagnoses.json of `stallscope diagnose` over the same runs (default: diagnose them here)")


def _cmd_assess(a: argparse.Namespace) -> None:
    from stallscope.pipeline import assess_with_diagnosis

    extras = {"overhead_bench": a.bench} if a.bench else {}
    assess_with_diagnosis(a.runs, out=a.out, config_path=a.config, allow_mixed=a.allow_mixed, extras=extras,
                          summary_out=a.summary, diagnoses_path=a.diagnoses)


def _compare_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("baseline", type=Path,
                   help="summary.json or claims.json of the baseline SUT, or a directory of its runs")
    s.add_argument("candidate", type=Path,
                   help="summary.json or claims.json of the candidate SUT, or a directory of its runs")
    s.add_argument("--out", type=Path, default=None, help="comparison.json to write (default: print it)")
    s.add_argument("--alpha", type=float, default=0.05, help="two-sided significance level (default 0.05)")
    s.add_argument("--min-change", type=float, default=0.05,
                   help="smallest relative change of a median worth reporting (default 0.05)")
    s.add_argument("--extend", action="store_true",
                   help="run more trials, interleaved baseline and candidate, until the delivered MB/s ratio's "
                   "interval excludes 1 +- --min-change or --max-trials (needs the four options below)")
    s.add_argument("--config", type=Path, default=None, help="--extend: the config the trials ran with")
    s.add_argument("--baseline-build", type=Path, default=None, help="--extend: the baseline's build.json")
    s.add_argument("--candidate-build", type=Path, default=None, help="--extend: the candidate's build.json")
    s.add_argument("--extra-dir", type=Path, default=None, help="--extend: where the extra runs go (emptied first)")
    s.add_argument("--max-trials", type=int, default=12, help="--extend: cap on the trials per side (default 12)")
    s.add_argument("--settle-over", action="append", default=None, metavar="SCENARIO",
                   help="settle problem_fixed over this scenario only (repeat; default: every scenario on both)")


def _cmd_compare(a: argparse.Namespace) -> None:
    from stallscope.analysis.compare_io import build_comparison, write_comparison

    result = build_comparison(a.baseline, a.candidate, a.alpha, a.settle_over, a.min_change)
    if a.extra_dir is not None:
        a.extra_dir.mkdir(parents=True, exist_ok=True)  # a rule's output directory, even when nothing is extended
    if a.extend:
        missing = [n for n in ("config", "baseline_build", "candidate_build", "extra_dir") if getattr(a, n) is None]
        if missing:
            raise StallscopeError(None, None, "--extend needs " + ", ".join("--" + m.replace("_", "-")
                                                                             for m in missing))
        from stallscope.extend import extend_comparison

        extend_comparison(result, a.config, {"baseline": a.baseline_build, "candidate": a.candidate_build},
                          a.extra_dir, a.min_change, a.max_trials, a.alpha)
    write_comparison(result, a.out)


def _report_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("claims", type=Path)
    s.add_argument("--out", type=Path, required=True, help="report directory, e.g. reports/<sut>")
    s.add_argument("--formats", default="html,pdf", help="comma-separated: html, pdf")
    s.add_argument("--comparison", type=Path, default=None,
                   help="comparison.json of `stallscope compare`: adds the before/after section")
    s.add_argument("--calibration", type=Path, default=None,
                   help="confusion.json of `stallscope calibrate`, shown when it exists (else: none was run)")


def _cmd_report(a: argparse.Namespace) -> None:
    from stallscope.render.report import render_report

    render_report(a.claims, out_dir=a.out, formats=a.formats, comparison=a.comparison, calibration=a.calibration)


def _index_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("--reports", type=Path, default=Path("reports"))
    s.add_argument("--out", type=Path, default=None, help="default: <reports>/index.html")


def _cmd_index(a: argparse.Namespace) -> None:
    from stallscope.render.index import build_index

    build_index(a.reports, out=a.out)


def _assess_logs_arguments(s: argparse.ArgumentParser) -> None:
    s.add_argument("src", type=Path, help="a directory of logs or one log of any name (as for ingest)")
    s.add_argument("-o", "--out", type=Path, required=True)
    s.add_argument("--scenario", default=None)
    _stall_timers_argument(s)


def _cmd_assess_logs(a: argparse.Namespace) -> None:
    from stallscope.pipeline import assess_logs

    assess_logs(a.src, out_dir=a.out, scenario=a.scenario, stall_timers=a.stall_timers)


@dataclass(frozen=True)
class Subcommand:
    """One subcommand: the name typed, its line in `stallscope --help`, what declares its options, what runs it."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], None]


def subcommands() -> tuple[Subcommand, ...]:
    """Every subcommand, in the order `stallscope --help` lists them; a new one is one line here.

    Built on each call rather than once at import, so a handler replaced on this module (as tests do) is the one run.
    """
    return (
        Subcommand("build", "compile the broker under test, write build.json", _build_arguments, _cmd_build),
        Subcommand("run", "run one scenario trial on loopback, collect logs and a manifest", _run_arguments,
                   _cmd_run),
        Subcommand("bench", "goodput of the broker vs a raw loopback sink, timers on vs off", _bench_arguments,
                   _cmd_bench),
        Subcommand("calibrate", "run seeded random fault draws, diagnose them, write confusion.json",
                   _calibrate_arguments, _cmd_calibrate),
        Subcommand("ingest", "lay out logs from elsewhere as a run directory", _ingest_arguments, _cmd_ingest),
        Subcommand("parse", "turn a run's logs into events.csv and lines.json", _parse_arguments, _cmd_parse),
        Subcommand("metrics", "compute metrics.json from events and manifest", _metrics_arguments, _cmd_metrics),
        Subcommand("diagnose", "each run's outcome, failure diagnosis and throughput bound", _diagnose_arguments,
                   _cmd_diagnose),
        Subcommand("assess", "evaluate the panel's claims over the runs of one commit", _assess_arguments,
                   _cmd_assess),
        Subcommand("compare", "baseline vs candidate: per scenario and key figure, intervals and a rank test",
                   _compare_arguments, _cmd_compare),
        Subcommand("report", "render the assessment (HTML, PDF, figures) from claims.json", _report_arguments,
                   _cmd_report),
        Subcommand("index", "rebuild reports/index.html over every archived commit", _index_arguments, _cmd_index),
        Subcommand("assess-logs", "ingest, parse, compute, assess and report one directory of logs",
                   _assess_logs_arguments, _cmd_assess_logs),
    )


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one sub-parser per entry of `subcommands()`."""
    p = argparse.ArgumentParser(prog="stallscope", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"stallscope {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for cmd in subcommands():
        s = sub.add_parser(cmd.name, help=cmd.help)
        cmd.add_arguments(s)
        s.set_defaults(func=cmd.run)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand and map failures onto exit statuses."""
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], None] = args.func
    try:
        func(args)
    except OutputBusy as exc:
        print(f"stallscope {args.command}: {exc}", file=sys.stderr)
        return 4
    except StallscopeError as exc:
        print(f"stallscope {args.command}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a path the user named cannot be read or written: their environment, not a bug
        where = f"{exc.filename}: " if exc.filename is not None else ""
        print(f"stallscope {args.command}: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: say so loudly, unless a stop signal caused it
        from stallscope.experiment import interrupts

        if interrupts.requested():  # e.g. a child of ours that the ^C reached too (one started unshielded)
            print(f"stallscope {args.command}: {interrupts.describe()} ({type(exc).__name__} on the way "
                  "out)", file=sys.stderr)
            return 130
        traceback.print_exc()
        print(f"stallscope {args.command}: internal error (a bug); traceback above", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())

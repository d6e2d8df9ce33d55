# Before/after (`sut.baseline: <git rev>`): build the broker as it was at that revision (a git worktree through
# GitPython, never a checkout of the user's tree), run the same scenarios and trials against it, assess them,
# compare them with the candidate's and put the comparison in the candidate's report (`report --comparison`),
# where it settles whether the problem is fixed. Without sut.baseline none of these rules exist.
# The baseline's results live under the pseudo-SUT `baseline-<commit>`, apart from the candidate's even when both
# are the same commit; parse, metrics and assess are the shared rules (their `sut` constraint admits it).
import re

from stallscope.errors import StallscopeError
from stallscope.experiment.baseline import (
    BASELINE_PATTERN,
    baseline_commit,
    baseline_sut,
)
from stallscope.panel.catalogue import load_catalogue
from stallscope.targets import fault_free

try:
    BASELINE = baseline_sut(config)
except StallscopeError as exc:
    raise SystemExit(f"{CONFIGFILE}: at $.sut.baseline: {exc}") from None

# The scenarios of the panel's problem_fixed claim that inject no fault settle it (stress_10gb in the shipped
# config); the fault scenarios fail on both sides by design and are compared figure by figure only.
FIXED_OVER = fault_free(
    next(c.scenarios for c in load_catalogue().claims if c.id == "problem_fixed"),
    config,
)


if BASELINE:

    localrules:
        compare_baseline,
        render_compared,

    # The candidate's build and report rules would match the baseline's paths too: these take precedence.
    ruleorder: build_baseline > build_broker
    ruleorder: render_compared > render_report

    # No --werror: an older revision may warn under today's compiler, and its warnings are not what is compared.
    rule build_baseline:
        output:
            build="results/build/{sut}/build.json",
        log:
            "results/logs/build_baseline/{sut}.log",
        benchmark:
            "results/benchmarks/build_baseline/{sut}.tsv"
        wildcard_constraints:
            sut=BASELINE_PATTERN,
        conda:
            "../../envs/stallscope.yaml"
        threads: 2
        resources:
            mem_mb=2000,
            runtime=20,
        params:
            configfile=CONFIGFILE,
            rev=baseline_commit(config),
        shell:
            "stallscope build --config={params.configfile:q} --rev={params.rev:q} --worktrees results/baseline-src"
            " --out results/build/{wildcards.sut:q} 2> {log:q}"

    # run_scenario on the baseline's build: same scenario, same trial, same harness, alone on the node likewise.
    use rule run_scenario as run_baseline with:
        log:
            "results/logs/run_baseline/{sut}/{scenario}/{trial}.log",
        benchmark:
            "results/benchmarks/run_baseline/{sut}/{scenario}/{trial}.tsv"
        wildcard_constraints:
            sut=BASELINE_PATTERN,

    # With compare.extend it runs more trials itself (interleaved baseline and candidate, `stallscope run` per
    # trial) until the delivered MB/s ratio's interval excludes 1 +- compare.min_change or compare.max_trials:
    # it takes the node, as a run does.
    rule compare_baseline:
        input:
            baseline="results/assessment/{base}/claims.json",
            candidate="results/assessment/{sut}/claims.json",
            baseline_build="results/build/{base}/build.json",
            candidate_build="results/build/{sut}/build.json",
        output:
            comparison="results/compare/{sut}/{base}/comparison.json",
            extra=directory("results/compare/{sut}/{base}/extra"),
        log:
            "results/logs/compare_baseline/{sut}/{base}.log",
        wildcard_constraints:
            sut=re.escape(SUT),
            base=BASELINE_PATTERN,
        conda:
            "../../envs/stallscope.yaml"
        threads: 1024
        params:
            settle=[f"--settle-over={s}" for s in FIXED_OVER] or ["--settle-over="],
            min_change=lookup(dpath="compare/min_change", within=config),
            max_trials=lookup(dpath="compare/max_trials", within=config),
            more=["--extend"] if config["compare"]["extend"] else [],
            configfile=CONFIGFILE,
        shell:
            "stallscope compare {params.settle:q} {params.more:q}"
            " --min-change={params.min_change:q} --max-trials={params.max_trials:q}"
            " --config={params.configfile:q} --baseline-build={input.baseline_build:q}"
            " --candidate-build={input.candidate_build:q} --extra-dir={output.extra:q}"
            " --out {output.comparison:q} -- {input.baseline:q} {input.candidate:q} 2> {log:q}"

    # render_report with the before/after section.
    rule render_compared:
        input:
            claims="results/assessment/{sut}/claims.json",
            metrics=get_metrics,
            templates=TEMPLATES,
            comparison=f"results/compare/{{sut}}/{BASELINE}/comparison.json",
        output:
            pdf="reports/{sut}/assessment.pdf",
            html="reports/{sut}/assessment.html",
        log:
            "results/logs/render_compared/{sut}.log",
        benchmark:
            "results/benchmarks/render_compared/{sut}.tsv"
        wildcard_constraints:
            sut=re.escape(SUT),
        conda:
            "../../envs/stallscope.yaml"
        shell:
            "stallscope report {input.claims:q} --comparison {input.comparison:q} --out reports/{wildcards.sut:q} 2> {log:q}"

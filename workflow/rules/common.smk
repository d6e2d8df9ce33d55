# Validate the config before any value is read, then derive the names every rule uses.
from stallscope.experiment.baseline import BASELINE_PATTERN
from stallscope.experiment.bench import sink_shapes
from stallscope.experiment.cluster import job_extra, job_nodes_wanted
from stallscope.shared.trialtag import TrialTag
from stallscope.targets import (
    SUT_PATTERN,
    assessed_run_dirs,
    checked_config_or_exit,
    config_file_for_stages,
    ingest_attempt_args,
    ingested_suts,
    only_stages_config,
    run_dirs,
    template_files,
)

# The config file the stages read themselves: the one given with --configfile, else the Snakefile's. (Snakemake
# lists the Snakefile's own `configfile:` last in workflow.configfiles, so [-1] would ignore --configfile.)
CONFIGFILE = config_file_for_stages(
    workflow.overwrite_configfiles, "config/config.yaml"
)
# Snakemake extends config/config.yaml with --configfile; the DAG reads what the stages read, that file alone.
only_stages_config(config, CONFIGFILE, "config/config.yaml")
# The same checks as the stages (schema, finite numbers, placeholders), one line on stderr and exit 1 if bad.
SUT = checked_config_or_exit(config, CONFIGFILE)
# Report inputs: editing a template reruns only the report and the index.
TEMPLATES = template_files()
NAMES = list(config["scenarios"]) + list(config.get("ingest") or {})
# The scenario shapes the benchmark measures the raw sink at: a new shape re-measures it, a new description not.
SINK_SHAPES = sink_shapes(config)


wildcard_constraints:
    sut=f"{SUT_PATTERN}|ingested-[A-Za-z][A-Za-z0-9_]*|{BASELINE_PATTERN}",
    scenario="|".join(NAMES),
    trial=TrialTag.PATTERN,


def get_metrics(wildcards):
    """metrics.json of every run one assessment reads."""
    return [f"{d}/metrics.json" for d in assessed_run_dirs(config, wildcards.sut)]


def get_run_dirs(wildcards):
    """The same runs as directories, for the command line."""
    return assessed_run_dirs(config, wildcards.sut)


def get_bench(wildcards):
    """The benchmark of a built SUT, when the assessment asks for it (none for ingested logs or a baseline)."""
    if config["assessment"]["bench"] and not wildcards.sut.startswith(
        ("ingested-", "baseline-")
    ):
        return [f"results/bench/{wildcards.sut}/bench.json"]
    return []


def get_ingest_src(wildcards):
    """The directory of logs named in config `ingest`."""
    return config["ingest"][wildcards.name]


def get_ingest_attempt(wildcards):
    """For one run of a folder of several (t<k>, t<k>a<a>), the option that ingests it alone."""
    return ingest_attempt_args(config["ingest"][wildcards.name], wildcards.trial)


def builds_of_the_comparison(wildcards):
    """In a before/after, the other side's build too: no trial of one side runs while the other still compiles
    (two cores shared with a compiler are not the machine the other side's trials ran on).
    """
    sides = [SUT, BASELINE] if BASELINE else []  # BASELINE: baseline.smk
    return [f"results/build/{s}/build.json" for s in sides if s != wildcards.sut]


def trial_order(wildcards):
    """Trial k of every scenario and side before any trial k + 1 (a run holds the node), and within trial k the
    sides take turns going first (candidate first for odd k, the baseline for even k: ABBA): a before/after's
    trials neither run in blocks nor always in the same order, so a drift of the machine's speed, or whatever
    the run before leaves behind, falls on both sides alike (an A/A read 5 % "regressed" when the candidate
    always ran first).
    """
    k = TrialTag.parse(wildcards.trial).trial
    second = wildcards.sut.startswith("baseline-") == (k % 2 == 1)
    return -(2 * k + int(second))


def report_targets():
    """The PDF of this SUT and of every ingested log directory, plus the archive index."""
    suts = [SUT] + ingested_suts(config)
    return [f"reports/{s}/assessment.pdf" for s in suts] + ["reports/index.html"]

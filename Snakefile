# stallscope: build the broker, run the scenarios, parse, compute, assess, report. Targets last.
# One rule file per stage, named after its package folder under workflow/stallscope/ (build.smk: the SUT's build).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/build.smk"
include: "workflow/rules/experiment.smk"
include: "workflow/rules/logs.smk"
include: "workflow/rules/analysis.smk"
include: "workflow/rules/diagnose.smk"
include: "workflow/rules/panel.smk"
include: "workflow/rules/render.smk"
include: "workflow/rules/baseline.smk"
include: "workflow/rules/calibrate.smk"


rule all:
    default_target: True
    input:
        rules.report.input,


rule build:
    input:
        f"results/build/{SUT}/build.json",


rule runs:
    input:
        expand("{run}/manifest.json", run=run_dirs(config, SUT)),


rule bench:
    input:
        f"results/bench/{SUT}/bench.json",


rule calibrate:
    input:
        f"results/calibration/{SUT}/confusion.json",

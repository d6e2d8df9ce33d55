# Stage panel: the claims of the expert panel judged over the runs of one SUT (`stallscope assess`).
rule assess_claims:
    input:
        metrics=get_metrics,
        bench=get_bench,
        diagnoses=rules.diagnose_runs.output.diagnoses,
    output:
        claims="results/assessment/{sut}/claims.json",
        summary="results/assessment/{sut}/summary.json",
    log:
        "results/logs/assess_claims/{sut}.log",
    conda:
        "../../envs/stallscope.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        runs=get_run_dirs,
        configfile=CONFIGFILE,
        mixed=["--allow-mixed"] if config["assessment"]["allow_mixed"] else [],
        bench=lambda wildcards, input: [f"--bench={input.bench}"] if input.bench else [],
    shell:
        "stallscope assess --config={params.configfile:q} {params.mixed:q} {params.bench:q}"
        " --diagnoses {input.diagnoses:q} --out {output.claims:q} --summary {output.summary:q} -- {params.runs:q} 2> {log:q}"

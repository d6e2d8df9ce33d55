# Stage diagnose: each run's outcome, failure diagnosis and throughput bound, over the runs of one SUT
# (`stallscope diagnose`).
rule diagnose_runs:
    input:
        metrics=get_metrics,
        bench=get_bench,
    output:
        diagnoses="results/diagnosis/{sut}/diagnoses.json",
    log:
        "results/logs/diagnose_runs/{sut}.log",
    conda:
        "../../envs/stallscope.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        runs=get_run_dirs,
        bench=lambda wildcards, input: [f"--bench={input.bench}"] if input.bench else [],
    shell:
        "stallscope diagnose {params.bench:q} --out {output.diagnoses:q} -- {params.runs:q} 2> {log:q}"

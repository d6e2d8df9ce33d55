rule parse_run:
    input:
        manifest="results/runs/{sut}/{scenario}/{trial}/manifest.json",
    output:
        events="results/runs/{sut}/{scenario}/{trial}/events.csv",
        lines="results/runs/{sut}/{scenario}/{trial}/lines.json",
    log:
        "results/logs/parse_run/{sut}/{scenario}/{trial}.log",
    conda:
        "../../envs/stallscope.yaml"
    resources:
        mem_mb=1000,
        runtime=20,
    shell:
        "stallscope parse results/runs/{wildcards.sut}/{wildcards.scenario}/{wildcards.trial} 2> {log}"


rule compute_metrics:
    input:
        manifest="results/runs/{sut}/{scenario}/{trial}/manifest.json",
        events="results/runs/{sut}/{scenario}/{trial}/events.csv",
        lines="results/runs/{sut}/{scenario}/{trial}/lines.json",
    output:
        metrics="results/runs/{sut}/{scenario}/{trial}/metrics.json",
    log:
        "results/logs/compute_metrics/{sut}/{scenario}/{trial}.log",
    conda:
        "../../envs/stallscope.yaml"
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "stallscope metrics results/runs/{wildcards.sut}/{wildcards.scenario}/{wildcards.trial} --out {output.metrics} 2> {log}"


rule assess_claims:
    input:
        metrics=get_metrics,
        bench=get_bench,
    output:
        claims="results/assessment/{sut}/claims.json",
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
        " --out {output.claims} -- {params.runs:q} 2> {log}"

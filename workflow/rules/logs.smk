# Stage logs: raw logs into a run directory (`stallscope ingest`) and into events (`stallscope parse`).
rule ingest_run:
    output:
        manifest="results/runs/ingested-{name}/{name}/{trial}/manifest.json",
    log:
        "results/logs/ingest_run/{name}/{trial}.log",
    conda:
        "../../envs/stallscope.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        src=get_ingest_src,
        attempt=get_ingest_attempt,
    shell:
        "stallscope ingest --scenario {wildcards.name:q} {params.attempt:q}"
        " --out results/runs/ingested-{wildcards.name:q}/{wildcards.name:q}/{wildcards.trial:q} -- {params.src:q} 2> {log:q}"


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
        "stallscope parse results/runs/{wildcards.sut:q}/{wildcards.scenario:q}/{wildcards.trial:q} 2> {log:q}"

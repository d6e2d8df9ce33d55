# Stage analysis: events of one run into its metrics (`stallscope metrics`).
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
        "stallscope metrics results/runs/{wildcards.sut:q}/{wildcards.scenario:q}/{wildcards.trial:q} --out {output.metrics:q} 2> {log:q}"

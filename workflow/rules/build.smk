# The broker under test built from its source (`stallscope build`) and its raw-sink benchmark (`stallscope bench`).
rule build_broker:
    output:
        build="results/build/{sut}/build.json",
    log:
        "results/logs/build_broker/{sut}.log",
    benchmark:
        "results/benchmarks/build_broker/{sut}.tsv"
    conda:
        "../../envs/stallscope.yaml"
    threads: 2
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        # Unused by the command (it reads the config file itself): here so editing `sut` rebuilds.
        sut=lookup(dpath="sut", within=config),
        configfile=CONFIGFILE,
    shell:
        "stallscope build --config={params.configfile:q} --out results/build/{wildcards.sut:q} --werror 2> {log:q}"


rule bench_broker:
    input:
        build="results/build/{sut}/build.json",
    output:
        bench="results/bench/{sut}/bench.json",
    log:
        "results/logs/bench_broker/{sut}.log",
    conda:
        "../../envs/stallscope.yaml"
    # A benchmark runs alone: asking for more threads than --cores gives it every core.
    threads: 1024
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        repeats=lookup(dpath="bench/repeats", within=config),
        total_bytes=lookup(dpath="bench/total_bytes", within=config),
        sink_repeats=lookup(dpath="bench/sink_repeats", within=config),
        max_repeats=lookup(dpath="bench/max_repeats", within=config),
        min_change=lookup(dpath="compare/min_change", within=config),
        # Unused by the command (it reads them from the config file): here so a new scenario shape re-measures.
        shapes=SINK_SHAPES,
        configfile=CONFIGFILE,
    shell:
        "stallscope bench --build {input.build:q} --repeats={params.repeats:q} --total-bytes={params.total_bytes:q}"
        " --config={params.configfile:q} --sink-repeats={params.sink_repeats:q} --max-repeats={params.max_repeats:q}"
        " --min-change={params.min_change:q} --out {output.bench:q} 2> {log:q}"

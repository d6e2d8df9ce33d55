# Stage calibrate: seeded random fault draws run, parsed and judged, scored as a confusion matrix
# (`stallscope calibrate`). Long (about 10 s per draw): only `snakemake calibrate` / `make calibrate` ask for it.
rule calibrate_diagnosis:
    input:
        build="results/build/{sut}/build.json",
    output:
        confusion="results/calibration/{sut}/confusion.json",
    log:
        "results/logs/calibrate_diagnosis/{sut}.log",
    wildcard_constraints:
        sut=SUT_PATTERN,
    conda:
        "../../envs/stallscope.yaml"
    # Its draws are runs: alone on the machine, like run_scenario and the benchmark.
    threads: 1024
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        seed=lookup(dpath="calibration/seed", within=config),
        draws=lookup(dpath="calibration/draws", within=config),
        configfile=CONFIGFILE,
    shell:
        "stallscope calibrate --config={params.configfile:q} --build {input.build:q} --seed={params.seed:q}"
        " --draws={params.draws:q} --out {output.confusion:q} 2> {log:q}"

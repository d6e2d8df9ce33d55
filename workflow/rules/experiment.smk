# Stage experiment: run one scenario trial against the built SUT (`stallscope run`).
rule run_scenario:
    input:
        build="results/build/{sut}/build.json",
        others=builds_of_the_comparison,
    output:
        manifest="results/runs/{sut}/{scenario}/{trial}/manifest.json",
        client="results/runs/{sut}/{scenario}/{trial}/client.log",
    log:
        "results/logs/run_scenario/{sut}/{scenario}/{trial}.log",
    benchmark:
        "results/benchmarks/run_scenario/{sut}/{scenario}/{trial}.tsv"
    wildcard_constraints:
        sut=SUT_PATTERN,
    priority: trial_order
    conda:
        "../../envs/stallscope.yaml"
    # All brokers and the publisher of one run share one node, alone (as the benchmark it is compared with): a
    # run's throughput bound reads its goodput against the raw sink's, so nothing may share its cores.
    threads: 1024
    # On a cluster the job holds every node the scenario places a role on (one task per node, the roles are
    # its srun steps); elsewhere these are inert.
    resources:
        mem_mb=4000,
        runtime=30,
        nodes=lambda wildcards: job_nodes_wanted(config, wildcards.scenario),
        tasks=lambda wildcards: job_nodes_wanted(config, wildcards.scenario),
        slurm_extra=lambda wildcards: job_extra(config, wildcards.scenario),
        # The real Embarcadero binds fixed ports (1214 + id, 12140): with the global limit of 1 (the profile's
        # resources) two of its runs never overlap.
        embarcadero_ports=1 if config["sut"]["kind"] == "embarcadero" else 0,
    params:
        # Unused by the command (it reads the config file itself): here so editing the scenario, the defaults
        # or the harness settings reruns the runs they shape.
        scenario=lookup(dpath="scenarios/{scenario}", within=config),
        defaults=lookup(dpath="defaults", within=config),
        harness=lookup(dpath="run", within=config),
        configfile=CONFIGFILE,
        trial=lambda wildcards: str(TrialTag.parse(wildcards.trial).trial),
    shell:
        "stallscope run --config={params.configfile:q} --scenario {wildcards.scenario:q} --trial={params.trial:q}"
        " --build {input.build:q} --out results/runs/{wildcards.sut:q}/{wildcards.scenario:q}/{wildcards.trial:q} 2> {log:q}"

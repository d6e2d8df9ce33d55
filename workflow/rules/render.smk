# Stage render: one SUT's assessment as HTML and PDF (`stallscope report`), and the archive index.
localrules:
    render_report,
    build_index,


rule render_report:
    input:
        claims="results/assessment/{sut}/claims.json",
        metrics=get_metrics,
        templates=TEMPLATES,
    output:
        pdf="reports/{sut}/assessment.pdf",
        html="reports/{sut}/assessment.html",
    log:
        "results/logs/render_report/{sut}.log",
    benchmark:
        "results/benchmarks/render_report/{sut}.tsv"
    conda:
        "../../envs/stallscope.yaml"
    params:
        # Read when it exists, never made by this rule: `make report` does not run the (long) calibration.
        calibration=lambda wc: f"results/calibration/{wc.sut}/confusion.json",
    shell:
        "stallscope report {input.claims:q} --out reports/{wildcards.sut:q}"
        " --calibration {params.calibration:q} 2> {log:q}"


rule build_index:
    input:
        pdfs=[t for t in report_targets() if t.endswith(".pdf")],
    output:
        index="reports/index.html",
    log:
        "results/logs/build_index/index.log",
    conda:
        "../../envs/stallscope.yaml"
    shell:
        "stallscope index --reports reports --out {output.index:q} 2> {log:q}"


rule report:
    input:
        report_targets(),

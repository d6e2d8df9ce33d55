"""What more than one stage needs, and no stage owns: the manifest record, the events.csv table, the one reader of a
run directory (``rundir``) and of the config (``config``), provenance facts, the parent-death signal, log excerpts
and the trial statistics.

A stage package (experiment, logs, analysis, panel, render) imports only ``stallscope.schemas``,
``stallscope.errors``, this package and itself (``tests/test_layers.py``); the pipeline, the workflow's targets and
the CLI sit above the stages and may import any of them. Nothing here imports a stage.
"""

"""Calibration: seeded random fault draws, run and diagnosed, scored as a confusion matrix.

It sits above the stages, like ``pipeline.py``: a draw is run (experiment), parsed (logs), measured (analysis)
and judged (panel) by the stages' own functions.
"""

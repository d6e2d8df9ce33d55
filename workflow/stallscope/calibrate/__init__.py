"""Calibration: seeded random fault draws, run and diagnosed, scored as a confusion matrix."""

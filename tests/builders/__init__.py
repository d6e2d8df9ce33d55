"""Test builders, one module per stage whose inputs they make (logs, panel, render)."""

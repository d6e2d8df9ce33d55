"""Errors a user can act on: each names the file and, when known, the line."""

from __future__ import annotations

from pathlib import Path


class StallscopeError(Exception):
    """Bad input or environment, reported as ``path:line: msg`` and exit status 1."""

    def __init__(self, path: str | Path | None, line: int | None, msg: str) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.msg = msg
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.path is None:
            return self.msg
        if self.line is None:
            return f"{self.path}: {self.msg}"
        return f"{self.path}:{self.line}: {self.msg}"

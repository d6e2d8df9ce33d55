"""Only the optional C extension lives here; everything else is in pyproject.toml.

The compiled line scanner speeds up the parse stage; when no C compiler is there the build skips it
(``optional=True``) and stallscope parses with its numpy path instead.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "stallscope.logs._fastscan",
            ["workflow/stallscope/logs/_fastscan.c"],
            extra_compile_args=["-O2", "-std=c99", "-Wall", "-Wextra"],
            optional=True,
        )
    ]
)

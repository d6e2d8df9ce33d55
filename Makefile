# The two commands of the README. Both create the local virtual environment on first use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report test lint clean-results

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## make report: build the broker, run every scenario, assess, render reports/<sut>/assessment.pdf
report: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores 4 --workflow-profile workflow/profiles/default report

## make test: lint, unit and stage tests, the broker's ctest, the end-to-end DAG on the small config
test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ruff check workflow tests
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakefmt --check Snakefile workflow/rules
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pytest -q $(PYTEST_ARGS)

lint: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ruff check workflow tests
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --lint

clean-results:
	rm -rf results .snakemake

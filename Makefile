# The two commands of the README. Both create the local virtual environment on first use.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: report report-embarcadero test clean-results

# setup.py builds the compiled line scanner in place: a change to its C source reinstalls.
$(STAMP): pyproject.toml setup.py workflow/stallscope/logs/_fastscan.c
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

## make report: build the broker, run every scenario, assess, render reports/<sut>/assessment.pdf
report: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores 4 --workflow-profile profiles/default report

## make report-embarcadero: the same against the real Embarcadero (config/embarcadero.yaml). Its sut.source,
## build/embarcadero-src, is cloned from $(EMBARCADERO_BUNDLE) first when it does not exist (point sut.source at
## your own checkout instead: README "The real Embarcadero").
EMBARCADERO_BUNDLE ?= ../shared/sut/embarcadero.bundle
EMBARCADERO_SRC := build/embarcadero-src
report-embarcadero: $(STAMP)
	@if [ ! -e $(EMBARCADERO_SRC) ] && [ -f $(EMBARCADERO_BUNDLE) ]; then \
		echo "cloning $(EMBARCADERO_BUNDLE) into $(EMBARCADERO_SRC)"; git clone -q $(EMBARCADERO_BUNDLE) $(EMBARCADERO_SRC); fi
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/snakemake --cores 4 --workflow-profile profiles/default \
		--configfile=config/embarcadero.yaml report

TEST_BUILD := build/test
RUN := PATH="$(CURDIR)/$(BIN):$$PATH"

## make test: lint, the broker's ctest, a -Werror compile of the C scanner, unit and stage tests,
## the end-to-end DAG on the small config.
## PYTEST_ARGS=--run-long adds the full scenarios (minutes); tests marked slurm need a running SLURM.
test: $(STAMP)
	$(RUN) $(BIN)/ruff check workflow tests
	$(RUN) $(BIN)/snakefmt --check Snakefile workflow/rules
	$(RUN) $(BIN)/snakemake --lint
	mkdir -p $(TEST_BUILD)
	$(RUN) $(BIN)/stallscope build --out $(TEST_BUILD) --werror 2> $(TEST_BUILD).log || { cat $(TEST_BUILD).log; exit 1; }
	cd $(TEST_BUILD)/cmake && ctest --output-on-failure
	$(CC) -O2 -c -o /dev/null -std=c99 -Wall -Wextra -Werror \
		-I"$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["include"])')" \
		workflow/stallscope/logs/_fastscan.c
	$(RUN) STALLSCOPE_BUILD_JSON="$(CURDIR)/$(TEST_BUILD)/build.json" STALLSCOPE_REQUIRE_COMPILED=1 \
		$(BIN)/pytest -q $(PYTEST_ARGS)


clean-results:
	rm -rf results .snakemake build

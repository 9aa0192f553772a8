# Two commands on a fresh machine (Python >= 3.10 and Java 17): `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DELTA_VERSION = $(shell $(BIN)/python -c 'from importlib.metadata import version; print(version("delta-spark"))')

.PHONY: install run test test-e2e lint bench validate-bundle delta-jars clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 10), "speedrun needs Python >= 3.10"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	@echo "warming up: one small local run, so that Spark's JVM starts warm from the first command (once per install)"
	$(BIN)/python -m speedrun.edges.jvm_warmup 2>&1 | tail -n 1
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

run: install  ## the whole training pipeline on the built-in default data; prints the test metrics
	$(BIN)/speedrun run $(ARGS)

test: install  ## the fast suite: units, one shared pipeline run, failure paths (about 75 s on 2 cores)
	$(BIN)/pytest -m "not e2e" $(ARGS)

test-e2e: install  ## the end-to-end suite: every example, replay, lifecycle, spark-submit, the server (2 workers)
	$(BIN)/pytest -m e2e -n 2 --dist loadgroup $(ARGS)

bench: install  ## speedrun vs naive PySpark vs scikit-learn, 10^4..10^7 rows (ARGS="--sizes 10000,100000")
	$(BIN)/python benchmarks/bench.py $(ARGS)

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

validate-bundle: install  ## offline checks of databricks.yml and resources/*.yml
	$(BIN)/python tests/bundle_validation.py $(ARGS)

delta-jars: install  ## only where Spark's resolver cannot reach Maven Central: fetch the Delta jars with mvn
	mvn -q dependency:copy -Dartifact=io.delta:delta-spark_2.13:$(DELTA_VERSION) -DoutputDirectory=.cache/delta-jars
	mvn -q dependency:copy -Dartifact=io.delta:delta-storage:$(DELTA_VERSION) -DoutputDirectory=.cache/delta-jars
	@echo "then: export SPEEDRUN_DELTA_JARS=$(CURDIR)/.cache/delta-jars"

clean:
	rm -rf work .pytest_cache dist build

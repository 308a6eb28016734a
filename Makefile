# Two commands do all the set-up: `make demo` and `make test` create .venv and install
# what they need from pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
STORE ?= out/demo.duckdb

.PHONY: demo test lint format bench bench-ingest bench-scan bench-accuracy bench-anchors system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[web,spark,comtrade,dev,bench]"
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p out
	$(BIN)/tradesentry demo --store $(STORE)

# Chromium (browser tests) and Java 17 (Spark tests) come from Debian's packages.
system-deps:
	bash scripts/system-deps

# Two workers, each test file on one (a file's fixtures, such as its Spark session, are
# made once): the suite waits on Spark, the browser and subprocesses as much as it
# computes, and took 15.8 min in one process against 7.9 min in two on 2 CPUs.
test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench-ingest: $(STAMP)
	$(BIN)/python benchmarks/ingest.py

bench-scan: $(STAMP)
	$(BIN)/python benchmarks/scan.py

bench-accuracy: $(STAMP)
	$(BIN)/python benchmarks/accuracy.py

# The libraries tradesentry is compared with, one pinned Python 3.11 environment each under
# benchmarks/.venvs/ (they pin conflicting versions; git-ignored, never used by `make test`).
# ANCHORS_ARGS passes options through, e.g. ANCHORS_ARGS="--series 300 --reuse".
ANCHOR_PYTHON ?= $(shell command -v python3.11)
ANCHORS := stl statsforecast prophet adtk ruptures
ANCHOR_STAMPS := $(foreach a,$(ANCHORS),benchmarks/.venvs/$(a)/.installed-stamp)

benchmarks/.venvs/%/.installed-stamp: benchmarks/anchors/requirements-%.txt
	@test -n "$(ANCHOR_PYTHON)" || { echo "bench-anchors needs python3.11 (set ANCHOR_PYTHON)"; exit 2; }
	test -x benchmarks/.venvs/$*/bin/python || $(ANCHOR_PYTHON) -m venv benchmarks/.venvs/$*
	benchmarks/.venvs/$*/bin/python -m pip install --quiet -r $<
	touch $@

bench-anchors: $(STAMP) $(ANCHOR_STAMPS)
	$(BIN)/python benchmarks/anchors.py --docs $(ANCHORS_ARGS)

bench: bench-ingest bench-scan bench-accuracy

clean:
	rm -rf out .pytest_cache test-artifacts

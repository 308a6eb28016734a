# Two commands do all the set-up: `make demo` and `make test` create .venv and install
# what they need from pyproject.toml.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
STORE ?= out/demo.duckdb

.PHONY: demo test lint format bench bench-ingest bench-scan bench-accuracy system-deps clean

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

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

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

bench: bench-ingest bench-scan bench-accuracy

clean:
	rm -rf out .pytest_cache test-artifacts

# The two commands of the README: `make demo` and `make test`. Everything else is set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint unit integration up status down bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

unit: $(STAMP)
	$(BIN)/pytest -m "not integration" tests

integration: $(STAMP)
	$(BIN)/pytest -m integration tests

test: $(STAMP) lint
	$(BIN)/pytest -ra tests

up status down: $(STAMP)
	$(BIN)/python start_services.py $@

bench: $(STAMP)
	$(BIN)/python -m bench.codec_bench

clean:
	-$(BIN)/python start_services.py down
	rm -rf .state $(VENV)

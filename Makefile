# The two commands of the README: `make demo` and `make test`. Everything they need is installed here,
# into .venv: the demo needs only cnnlab and its plotting/progress extras; the tests add PyTorch.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test

.PHONY: test demo bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(DEMO_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[cli]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	$(PY) -m cnnlab train --out runs/demo --overwrite

test: $(TEST_STAMP)
	$(PY) -m pytest -n 2

bench: $(TEST_STAMP)
	$(PY) benchmarks/bench.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info runs/demo

# Two entry points for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit clean bench soak

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,devserver]'
	touch $(STAMP)

# The seed's load balancer on this machine, step by step; Ctrl-C stops it.
# CTMPL_DEMO_STEPS_ONLY=1 runs the steps and exits.
demo: $(STAMP)
	$(BIN)/python -m demo

lint: $(STAMP)
	$(BIN)/ruff check ctmpl tests bench demo
	$(BIN)/ruff format --check ctmpl tests bench demo

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -q

# The benchmark suite (about 10 minutes; docs/performance.md). BENCH_ARGS=--quick for a
# short run, BENCH_ARGS=--record to update bench/recorded.json for the regression guard.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# The chaos soak test for 15 minutes (2 in `make test`); CTMPL_SOAK_SEED picks the seed.
soak: $(STAMP)
	CTMPL_SOAK_SECONDS=$${CTMPL_SOAK_SECONDS:-900} $(BIN)/pytest -q -s tests/integration/test_soak.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Two commands on a fresh machine (Python 3.11+ and Node 22+): `make demo` and `make test`.
# Both create .venv and install conveyor with its judges on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_SPEC ?= examples/web-service.yaml
DEMO_OUT  ?= out/demo

# Node 20 still works (past its end of life): keep its banner out of the demo's output.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION = 20

.PHONY: demo test lint typecheck unit install clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

## Synthesize the bundled example, judge it with cfn-lint and conveyor check, summarize.
demo: $(STAMP)
	$(BIN)/conveyor validate $(DEMO_SPEC)
	$(BIN)/conveyor synth $(DEMO_SPEC) -o $(DEMO_OUT) --nag
	$(BIN)/cfn-lint $(DEMO_OUT)/*.template.json && echo "✓ cfn-lint: no errors, no warnings"
	$(BIN)/conveyor check $(DEMO_OUT)

## Everything CI runs: lint, format, types, tests.
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2 --dist loadgroup -q

clean:
	rm -rf $(VENV) out cdk.out .mypy_cache .ruff_cache .pytest_cache

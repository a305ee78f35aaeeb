# The two commands a newcomer types: `make demo` and `make test`.
# Both set up .venv from nothing (Python 3.11+ and pip are all they need).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench fuzz clean chromium

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[service,dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/gkt demo
	@echo "gkt is in $(BIN): 'source $(BIN)/activate' puts it on your PATH (README, docs/)"

test: lint typecheck chromium
	$(BIN)/gkt contracts check
	$(BIN)/pytest

# Debian's chromium for the report page test (tests/e2e/test_report_page.py). Installed when missing and we may
# (root: CI, containers); otherwise that test fails and says how to install it: it never skips.
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { echo "installing Debian's chromium for the report page test"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	    echo "could not install chromium (as root: apt-get install chromium); tests/e2e/test_report_page.py will fail"; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

# The long fuzz run (tests/fuzz): hostile batches and verdicts, a review group that crashes; FUZZ_EXAMPLES per test.
FUZZ_EXAMPLES ?= 50000
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest tests/fuzz --timeout=0 -q

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.rebuild
	$(BIN)/python -m bench.witness

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

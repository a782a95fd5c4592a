# Every target sets up .venv itself; `make test` and `make demo` work on a fresh machine.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SECONDS ?= 60

.PHONY: setup system-deps demo test check conformance lint bench timing fuzz security clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) system-deps

# Debian tools the tests and the demo use (speech); installed when missing and we may.
system-deps:
	@bash scripts/system-deps.sh

demo: setup
	bash scripts/demo.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check authenticators firmware_sim tests bench security
	$(VENV)/bin/ruff format --check authenticators firmware_sim tests bench security
	$(VENV)/bin/mypy

test: setup lint
	$(VENV)/bin/pytest -q -p no:cacheprovider
	$(MAKE) conformance

# The quick loop: lint and every test not marked slow (under two minutes on two cores).
check: $(STAMP) lint
	$(VENV)/bin/pytest -q -p no:cacheprovider -m "not slow"

# python-fido2's own device suite (tests/device of the installed version's sdist, fetched into
# build/conformance) against a fresh `chip serve --udp` on free ports.
conformance: $(STAMP)
	$(PY) -m authenticators.chip.conformance -q

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Timing leaks (dudect): 200,000 measurements per class for every secret comparison; |t| < 4.5.
timing: $(STAMP)
	$(PY) -m security.timing --measurements 200000

# Coverage-guided fuzzing (atheris): SECONDS per target (default 60), every target in turn.
fuzz: $(STAMP)
	$(PY) -m security.fuzz all --seconds $(SECONDS)

# Every security check in its quick form, one table; fails when a target fails.
security: $(STAMP)
	$(PY) -m security.report

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

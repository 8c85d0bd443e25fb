# `make run` serves the API on the embedded default; `make test` runs lint, types and tests.
# Both create .venv on first use and reinstall only when pyproject.toml or constraints.txt change.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHECKOV_VENV := .tools/checkov
CHECKOV      := $(CHECKOV_VENV)/bin/checkov

.PHONY: run test lint typecheck pytest lock clean system-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/btai serve

lint: $(STAMP)
	$(BIN)/ruff check app btai_ops tests benchmarks
	$(BIN)/ruff format --check app btai_ops tests benchmarks
	$(BIN)/vulture

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-tools $(CHECKOV)
	$(BIN)/pytest

# checkov scans the rendered manifests and Dockerfiles (tests/render). Its own pins (packaging
# below 24, boto3, ...) clash with the project's, so it lives in a virtualenv of its own,
# pinned by tests/render/checkov-constraints.txt.
$(CHECKOV): tests/render/checkov-constraints.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
	  -c tests/render/checkov-constraints.txt checkov
	touch $(CHECKOV)

# promtool (Debian package `prometheus`) checks the /metrics exposition and the rendered alert
# rules; headless Chromium (Debian package `chromium`) opens the served docs and the benchmark
# comparison page; wrk drives the side-by-side benchmarks. Installed here when missing and the
# machine allows it.
SYSTEM_PACKAGES := prometheus:promtool chromium:chromium wrk:wrk
# Two `make test` started together (two clones on one machine) take turns here instead of
# failing on dpkg's lock; apt waits for a lock held by anything else.
SYSTEM_TOOLS_LOCK := /tmp/btai-system-tools.lock
APT_GET := DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600

system-tools:
	@flock $(SYSTEM_TOOLS_LOCK) sh -c '\
	missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair#*:}" >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages:$$missing"; \
	    $(APT_GET) install -y -q --no-install-recommends $$missing >/dev/null 2>&1 || \
	    { $(APT_GET) update -q >/dev/null 2>&1 && $(APT_GET) install -y -q --no-install-recommends $$missing >/dev/null; }; \
	  else echo "missing Debian packages:$$missing (install them to run every test)"; fi; fi'

test: lint typecheck pytest

# Re-pin every dependency to what is installed now (run after changing pyproject.toml).
# `pip list --format=freeze` writes name==version even for a package installed from a local file.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	$(BIN)/python -m pip list --format=freeze --exclude-editable --exclude btai --exclude pip \
	  --exclude setuptools | sort > constraints.txt

clean:
	rm -rf $(VENV) .tools var .pytest_cache .mypy_cache .ruff_cache

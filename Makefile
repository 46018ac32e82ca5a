# Two commands set everything up on a fresh machine:
#   make demo   runs the main job (a task on the embedded local cloud, end to end)
#   make test   lints, type-checks and runs every test, integration included
# Both install what they need: a virtualenv with the packages, the Pulumi engine
# (`styx engine install`), and OpenSSH's server through apt when root and missing.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# actionlint checks the CI example; built once through the Go module proxy into .tools/
# (not system-wide), then reused.
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := .tools/actionlint-$(ACTIONLINT_VERSION)/actionlint

.PHONY: setup demo test lint typecheck unit integration sshd clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	@# The distribution was called "styx" before (a name PyPI gives an unrelated project).
	$(BIN)/python -m pip uninstall -q -y styx 2>/dev/null || true
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

sshd:
	@if command -v sshd >/dev/null 2>&1 || [ -x /usr/sbin/sshd ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing openssh-server (the local cloud's nodes are sshd processes)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			openssh-server openssh-client >/dev/null; \
	else \
		echo "openssh-server is missing: sudo apt-get install openssh-server" >&2; exit 1; \
	fi

setup: $(VENV)/.installed sshd
	$(BIN)/styx engine install

# The main job: check the machine, launch the 2-node hello task on the local cloud (plan,
# provision, setup, run), show its status, and tear it down even when the launch failed.
demo: setup
	$(BIN)/styx check
	@rc=0; $(BIN)/styx launch examples/hello.yaml -y || rc=$$?; \
	$(BIN)/styx status; \
	$(BIN)/styx down examples/hello.yaml -y || rc=$$?; \
	exit $$rc

$(ACTIONLINT):
	GOBIN=$(abspath $(dir $@)) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

lint: $(VENV)/.installed $(ACTIONLINT)
	$(BIN)/ruff check styx tests bench
	$(ACTIONLINT) examples/ci/*.yml

typecheck: $(VENV)/.installed
	$(BIN)/mypy

unit: $(VENV)/.installed
	$(BIN)/pytest -m "not integration"

integration: setup
	$(BIN)/pytest -m integration

test: setup lint typecheck
	$(BIN)/pytest

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache .tools

# ClinSum: `make run` serves the demo on the embedded stack, `make test` runs the whole suite.
# Both set everything up on a fresh Debian/Ubuntu machine with Python 3.11.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
RUN_DEBS := libldap2-dev libsasl2-dev
TEST_DEBS := $(RUN_DEBS) chromium slapd ldap-utils gnupg

# Installs missing Debian packages when root; otherwise names them and stops.
define debs
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing system packages:$$missing"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	  else \
	    echo "ClinSum needs these system packages:$$missing"; \
	    echo "run: sudo apt-get install -y$$missing   (then make again)"; exit 1; \
	  fi; \
	fi
endef

.PHONY: run test lint setup setup-test certs clean-data

run: $(VENV)/.installed-run
	$(PY) -m clinsum.devstack run

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

# What CI checks before the suite: lint rules, formatting, types, and that every model change
# has its migration. Fix with `ruff check --fix .` and `ruff format .`.
lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	CLINSUM_VAR_DIR=$${CLINSUM_VAR_DIR:-var/lint} $(PY) manage.py makemigrations --check --dry-run --no-input

setup: $(VENV)/.installed-run
setup-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(VENV)/bin/python
	$(call debs,$(RUN_DEBS))
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-test: requirements.txt requirements-test.txt | $(VENV)/bin/python
	$(call debs,$(TEST_DEBS))
	$(PY) -m pip install -q -r requirements-test.txt
	touch $@ $(VENV)/.installed-run

clean-data:  ## removes the embedded database and broker data (var/)
	rm -rf var

certs:  ## a self-signed TLS pair in var/certs for trying compose.yaml (use the hospital CA in production)
	mkdir -p var/certs
	openssl req -x509 -newkey rsa:3072 -nodes -days 365 -subj "/CN=clinsum.local" \
	  -keyout var/certs/clinsum.key -out var/certs/clinsum.crt
	chmod 600 var/certs/clinsum.key

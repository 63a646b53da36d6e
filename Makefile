# The two set-up commands: `make run` (the whole product, embedded defaults) and
# `make test` (the whole suite). Both create .venv and install pinned dependencies first.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint venv clean-local

$(STAMP): pyproject.toml devtools/bootstrap.sh
	sh devtools/bootstrap.sh $(PYTHON) $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VPY) -m devtools.run serve

test: $(STAMP)
	$(VPY) -m devtools.run test -- $(PYTEST_ARGS)

bench: $(STAMP)
	$(VPY) -m devtools.run bench

lint: $(STAMP)
	$(VENV)/bin/ruff check .

clean-local:
	rm -rf .local

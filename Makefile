# The two set-up commands: `make run` (the whole product, embedded defaults) and
# `make test` (the whole suite). Both create .venv and install the locked dependencies first.
PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench lint venv lock clean-local

# requirements-dev.txt is the lock: every package at the version CI tested. It is compiled
# from pyproject.toml by `make lock`; a test fails when the two disagree.
$(STAMP): requirements-dev.txt devtools/bootstrap.sh
	sh devtools/bootstrap.sh $(PYTHON) $(VENV)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements-dev.txt
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

# Re-resolve after changing pyproject.toml: requirements.txt (production, the Docker image)
# and requirements-dev.txt (make run / make test / CI).
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --no-strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links -o requirements.txt pyproject.toml
	$(VENV)/bin/pip-compile --quiet --no-strip-extras --allow-unsafe --no-emit-index-url --no-emit-find-links --extra dev -o requirements-dev.txt pyproject.toml

clean-local:
	rm -rf .local

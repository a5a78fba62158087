# Two commands run the course and its tests from a fresh clone (see README.md).
#   make lab    set up .venv if needed, then open JupyterLab at notebook 00
#   make test   set up .venv if needed, then run every test (unit, verification, grading, notebooks)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gdcourse-installed
LAB_ARGS ?=

.PHONY: lab test setup

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test,verify]"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest

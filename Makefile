# Two commands run the course and its tests from a fresh clone (see README.md).
#   make lab    set up .venv if needed, then open JupyterLab at notebook 00
#   make test   set up .venv if needed, then run every test (unit, verification, grading, notebooks)
#   make test-pythons  the unit suite on the oldest and the newest supported Python (.venv-3.10, .venv-3.13)
#   make notebooks  (authors) re-execute the source notebooks and regenerate the student versions
#   make gpu-check  (on a machine with an NVIDIA GPU) unit suite and course on CuPy, GPU benchmarks
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gdcourse-installed
LAB_ARGS ?=

.PHONY: lab test test-pythons setup notebooks gpu-check

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[lab,test,verify]"
	touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_start_here.ipynb $(LAB_ARGS)

test: $(STAMP)
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest

# The oldest and newest Python that pyproject.toml's classifiers list. Each gets its own venv (.venv-X.Y) with the
# same extras, and runs the unit suite (tests/; the notebooks' stored outputs were made with the main Python's
# packages and are checked by `make test`: tests marked stored_outputs are deselected here).
# The interpreter is pythonX.Y on PATH if it runs and is that version (a pyenv shim may not run), else pyenv's.
# torch 2.13.0 for them comes from PyPI (the CUDA build, about 0.5 GB plus its libraries; it runs on the CPU).
SUPPORTED_PYTHONS ?= 3.10 3.13
test-pythons:
	@set -e; for v in $(SUPPORTED_PYTHONS); do \
		py=""; for candidate in "$$(command -v python$$v)" "$$(pyenv prefix $$v 2>/dev/null)/bin/python"; do \
			if [ -n "$$candidate" ] && "$$candidate" -c "import sys; sys.exit(sys.version[:len('$$v.')] != '$$v.')" \
				2>/dev/null; then py=$$candidate; break; fi; \
		done; \
		if [ -z "$$py" ]; then echo "Python $$v not found: install it (or put python$$v on PATH)" >&2; exit 1; fi; \
		venv=.venv-$$v; echo "== Python $$v ($$py) in $$venv"; \
		if [ ! -f $$venv/.gdcourse-installed ] || [ pyproject.toml -nt $$venv/.gdcourse-installed ]; then \
			test -x $$venv/bin/python || $$py -m venv $$venv; \
			$$venv/bin/python -m pip install --quiet --upgrade pip; \
			$$venv/bin/python -m pip install --quiet torch==2.13.0; \
			$$venv/bin/python -m pip install --quiet -e ".[lab,test,verify]"; \
			touch $$venv/.gdcourse-installed; \
		fi; \
		OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
			$$venv/bin/python -m pytest tests -p no:cacheprovider -m "not stored_outputs"; \
	done

# For course authors: re-run every source notebook top to bottom (stores fresh outputs), then
# regenerate the student versions. Commit both.
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.record_timing=False \
		--ExecutePreprocessor.timeout=120 notebooks/[0-9][0-9]_*.ipynb
	$(BIN)/gdcourse assign

# The course website (build/site) and the lecture slides (build/slides), both working offline; the browser
# assets come from the npm packages pinned in docs/vendor (`npm ci --prefix docs/vendor` runs when missing).
.PHONY: site slides
site: $(STAMP)
	$(BIN)/python -m gdcourse.tools.site --output build/site

slides: $(STAMP)
	$(BIN)/python -m gdcourse.tools.slides --output build/slides

# On a machine with an NVIDIA GPU: the unit suite with GDCOURSE_TEST_BACKENDS=numpy,cupy, every notebook under
# strict nbval with GDCOURSE_BACKEND=cupy, and the optimizer benchmark with CuPy and torch CUDA
# (results in benchmarks/results/gpu/). Installs CuPy first; stops with a clear message when no GPU is usable.
gpu-check: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[gpu]"
	$(BIN)/python benchmarks/gpu_check.py

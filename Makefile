# The course's verbs. Each one builds the environment (.venv) first when it is missing or stale.
#   make course   build the environment, execute every notebook in place, print notebook -> wall time
#   make test     build the environment, check the layers (import-linter), run the whole test suite
#                 (unit, notebook smoke + nbval, static)
#   make lint     import-linter (lib's layers), ruff check + ruff format --check, pyright (basic) on lib
#   make lab      JupyterLab on the notebooks
#   make test-browser  the widgets in JupyterLab and the classroom app, driven in Chromium
#   make app      the report-card explorer as a standalone page for a class (Voila)
#   make bench    lib against the peer libraries on this CPU; writes benchmarks/results/cpu.{json,md}
#   make gpu-check the CUDA tests and the same comparisons on CUDA (GPU_PYTHON: torch with CUDA)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
EXTRAS ?= dev,peers,browser
PYTEST_ARGS ?=

APP_PORT ?= 8866

.PHONY: course test test-browser app lab lint venv clean gpu-check bench

venv: $(STAMP)

# Reinstall when the dependency list changes. torch/torchvision come first, pinned, so that no
# later requirement can pull a different build.
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.14.1" "torchvision==0.29.1"
	$(PY) -m pip install --quiet -e ".[$(EXTRAS)]"
	@touch $(STAMP)

course: $(STAMP)
	$(PY) -m tools.notebooks course

test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m pytest $(PYTEST_ARGS)

# Chromium comes from apt-get (installed here when missing and run as root), never from the web.
test-browser: $(STAMP)
	@bash tests/browser/install_chromium.sh
	$(PY) -m pytest --browser tests/browser -p no:cacheprovider $(PYTEST_ARGS)

app: $(STAMP)
	@echo "the report-card explorer: open http://127.0.0.1:$(APP_PORT)/ (Ctrl-C stops it)"
	$(VENV)/bin/voila app/report_card.ipynb --no-browser --Voila.ip=127.0.0.1 --port=$(APP_PORT)

bench: $(STAMP)
	nice $(PY) -m benchmarks.run --device cpu --reps 3

GPU_PYTHON ?= $(PY)
gpu-check:
	$(GPU_PYTHON) -m pytest -m cuda -q -p no:cacheprovider
	$(GPU_PYTHON) -m benchmarks.run --device cuda

lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(PY) -m ruff check lib tests tools notebooks app benchmarks
	$(PY) -m ruff format --check lib tests tools notebooks app benchmarks
	$(VENV)/bin/basedpyright

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

clean:
	rm -rf $(VENV) build .pytest_cache

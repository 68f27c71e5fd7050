# Two entry points for a fresh machine with Python 3.11, git and make:
#   make study   - create .venv if missing, install pinned deps, run the DVC pipeline
#   make test    - same set-up, then the fast tests (a few minutes on 2 cores)
#   make test-all - every test: end-to-end DVC runs, DDP, browser, remote, queue, real data (what CI runs)
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed-stamp
export PATH := $(BIN):$(PATH)

.PHONY: install study test test-all lint lock-check clean-venv bench bench-smoke profile plots-html publish-report

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The plan (what is out of date, the training runs, the expected time) first, then the baseline: a first result in
# minutes (metrics/evaluate/baseline.json), then everything else.
study: $(STAMP)
	python -m tools.plan
	dvc repro plot
	dvc repro

test: $(STAMP)
	python -m pytest -m "not slow"

test-all: $(STAMP)
	python -m pytest

lint: $(STAMP)
	ruff check .

# Stages whose dvc.lock entry records other code, params or declarations than the working tree, and lock entries
# that name no stage, from dvc.yaml, dvc.lock, params.yaml and git alone (no data, no outputs). A report: exits 0
# (python -m tools.lockcheck --strict exits 1 when anything is listed).
lock-check: $(STAMP)
	python -m tools.lockcheck

clean-venv:
	rm -rf $(VENV)

bench: $(STAMP)
	python bench/run.py

profile: $(STAMP)
	dvc repro data/dvc.yaml
	python bench/profile_steps.py

bench-smoke: $(STAMP)
	python bench/run.py --smoke --out $(abspath $(VENV))/bench-smoke.json

plots-html: $(STAMP)
	python -m tools.plots_html

# Copy the generated study report (Markdown + its figures, no face images) and the statistics behind it to
# docs/study/, regenerate the headline verdicts in README.md and docs/study.md from them (tools/publish.py), and copy
# the release's model card to docs/model-card.md; git tracks them, so a reader can open them without running
# anything. reports/ itself is a DVC output. Each is copied when the pipeline has made it.
publish-report:
	test -f reports/study.md -o -f reports/model-card.md || { echo "error: reports/study.md and reports/model-card.md missing; run dvc repro report release first" >&2; exit 2; }
	if test -f reports/study.md; then $(BIN)/python -m tools.publish; fi
	if test -f reports/model-card.md; then cp reports/model-card.md docs/model-card.md; fi

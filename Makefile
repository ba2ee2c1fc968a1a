# Two commands set everything up on a fresh machine:
#   make run   - install into .venv and evaluate ISAAC on a shipped trace
#   make test  - install into .venv (with the test and optional extras) and run the suite
#   make fuzz  - the fuzzing harness with a long budget (FUZZ_BUDGET seconds per input class)
#   make docs  - regenerate every generated table of docs/, the slow ones too (tens of minutes)
#   make docs-check - check every generated table of docs/ is current, the slow ones too
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP_CORE := $(VENV)/.core-installed
STAMP_DEV  := $(VENV)/.dev-installed

.PHONY: run test fuzz bench docs docs-check install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel

$(STAMP_CORE): $(PY) setup.cfg
	$(PY) -m pip install -q -e .
	touch $@

$(STAMP_DEV): $(STAMP_CORE)
	$(PY) -m pip install -q -e '.[dev,torch,plot,progress,dist,onnx,mnist,pandas,rich]'
	touch $@

install: $(STAMP_CORE)
install-dev: $(STAMP_DEV)

run: $(STAMP_CORE)
	$(VENV)/bin/pimsim run configs/isaac.yaml --trace traces/resnet20_digits.npz

test: $(STAMP_DEV)
	$(PY) -m pytest -q

FUZZ_BUDGET ?= 300
fuzz: $(STAMP_DEV)
	PIMSIM_FUZZ_BUDGET=$(FUZZ_BUDGET) PIMSIM_FUZZ_REPORT=fuzz-report.json \
		$(PY) -m pytest -q -p no:cacheprovider tests/fuzz

bench: $(STAMP_DEV)
	$(PY) benchmarks/run_all.py

docs: $(STAMP_DEV)
	$(PY) -m pimsim.report.doc_tables --write --slow

docs-check: $(STAMP_DEV)
	$(PY) -m pimsim.report.doc_tables --check --slow

clean:
	rm -rf $(VENV) build *.egg-info

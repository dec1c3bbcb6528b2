# Two entry points: `make demo` and `make test`. Each bootstraps what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup data demo test bench clean

$(VENV)/.stamp: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,faces]'
	touch $@

setup: $(VENV)/.stamp

$(FMNIST):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist

data: $(FMNIST)

demo: setup data
	$(PY) -m distlm.demo

test: setup data
	$(PY) -m pytest -q tests

bench: setup data
	$(PY) benchmarks/bench_losses.py

clean:
	rm -rf $(VENV) .pytest_cache

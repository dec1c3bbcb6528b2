# Two entry points: `make demo` and `make test`. Each bootstraps what it needs:
# the virtualenv with the package and its extras, Debian's Fashion-MNIST (real data
# for the demo and tests) and Prometheus (a real server for the telemetry tests).
SHELL  := /bin/bash
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PYTEST_ARGS ?=

.PHONY: setup data servers demo test bench gpu-check clean

$(VENV)/.stamp: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,faces,predict]'
	touch $@

setup: $(VENV)/.stamp

$(FMNIST):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq dataset-fashion-mnist

data: $(FMNIST)

/usr/bin/prometheus:
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends prometheus

servers: /usr/bin/prometheus

demo: setup data
	$(PY) -m distlm.demo

test: setup data servers
	$(PY) -m pytest -q $(PYTEST_ARGS) tests

# the GPU path in one command: the venv's python when there is one, else python3 (a GPU
# box with torch and no network needs no setup); GPU_CHECK_ARGS="--device cpu" runs it here
gpu-check:
	$(if $(wildcard $(PY)),$(PY),$(PYTHON)) scripts/gpu-check $(GPU_CHECK_ARGS)

bench: setup data
	$(PY) benchmarks/bench_losses.py

clean:
	rm -rf $(VENV) .pytest_cache

# The two commands of the README: `make train` and `make test`. Each sets everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup train test acceptance bench clean

setup: $(VENV)/.installed $(FMNIST)

# torch goes in first and alone, pinned, so nothing later can pull a CUDA build.
$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(FMNIST):
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	else \
	  echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist' (Debian/Ubuntu)"; exit 1; \
	fi

train: setup
	$(BIN)/genlab-train $(ARGS)

test: setup
	$(BIN)/pytest -q $(ARGS)

acceptance: setup
	bash scripts/acceptance.sh

bench: setup
	$(BIN)/python scripts/bench_epoch.py

clean:
	rm -rf $(VENV) outputs multirun

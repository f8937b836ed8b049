# One entry point for set-up, running and checking. Every target creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TOOLS := $(VENV)/.tools
MITM := $(VENV)/mitm

.PHONY: run demo tools test check lint types bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Real servers the tests run: Debian's tinyproxy and nginx (apt, as root, only what is missing) and
# mitmproxy in a venv of its own (its pins clash with ours). Without root the tests needing them skip.
$(TOOLS): $(STAMP)
	@missing=""; \
	for p in tinyproxy:tinyproxy nginx:nginx-light; do \
	  command -v $${p%%:*} >/dev/null 2>&1 || [ -x /usr/sbin/$${p%%:*} ] || missing="$$missing $${p##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing$$missing (apt)"; \
	    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends $$missing >/dev/null; \
	  else echo "note:$$missing missing and not root: the tests that need them skip"; fi; \
	fi
	@test -x $(MITM)/bin/mitmdump || ( $(PYTHON) -m venv $(MITM) && \
	  $(MITM)/bin/python -m pip install --quiet mitmproxy ) || echo "note: mitmproxy did not install"
	touch $@

tools: $(TOOLS)

run: $(STAMP)
	$(BIN)/knoxtui demo

demo: run

test: $(STAMP) $(TOOLS)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check knoxtui tests benchmarks
	$(BIN)/ruff format --check knoxtui tests benchmarks

types: $(STAMP)
	$(BIN)/mypy

check: lint types test

bench: $(STAMP) $(TOOLS)
	$(BIN)/python -m benchmarks

screenshots: $(STAMP)
	$(BIN)/python -m knoxtui.ui.screenshots screenshots

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist

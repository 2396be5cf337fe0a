# Two commands from a fresh clone: `make run` and `make test`. Each sets up what it needs.
VENV ?= .venv
PORT ?= 8000
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml requirements.txt | cksum | cut -d' ' -f1)

.PHONY: run test test-fast screenshots lint chromium bench messages

$(STAMP): pyproject.toml requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet --constraint requirements.txt -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(VENV)/bin/hypercorn --config hypercorn.toml --bind 127.0.0.1:$(PORT) livescores:app

# The whole suite, as CI runs it: browser and multi-process tests included, on SQLite and
# PostgreSQL, against the real Redis and PostgreSQL servers (see README, "Tests"), which must be
# running: here a missing one fails the run, where plain `pytest` skips its tests.
test: $(STAMP) chromium
	LIVESCORES_REQUIRE_SERVICES=1 $(VENV)/bin/pytest -m "" $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The README's screenshots, taken again by the browser test that takes them on every run
# (into a temporary folder then); commit docs/screenshots afterwards.
screenshots: $(STAMP) chromium
	LIVESCORES_SCREENSHOTS=docs/screenshots $(VENV)/bin/pytest -m slow tests/test_browser_ui.py -k screenshots

# Every translatable text in the source (babel.cfg) into each language's catalogue: new
# entries arrive untranslated, changed ones fuzzy, gone ones are dropped. Translate them, then
# run tests/test_languages.py. Catalogues are compiled in memory at start-up (no .mo files).
POT := .cache/messages.pot
messages: $(STAMP)
	mkdir -p $(dir $(POT))
	$(VENV)/bin/pybabel -q extract -F babel.cfg --no-location --sort-output --project=livescores -o $(POT) .
	$(VENV)/bin/pybabel -q update -i $(POT) -d livescores/translations --no-wrap --ignore-obsolete --no-fuzzy-matching

lint: $(STAMP)
	$(VENV)/bin/ruff check livescores tests bench
	$(VENV)/bin/ruff format --check livescores tests bench
	$(VENV)/bin/mypy

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "The browser tests need Debian's chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'."; exit 1; \
	  fi; }

# Fan-out benchmark against the Node `ws` reference (see bench/README.md), e.g.
# `make bench BENCH_ARGS="--viewers 1000 5000 10000"` or BENCH_ARGS="--mode writes".
BENCH_ARGS ?= --viewers 1000
bench: $(STAMP)
	$(VENV)/bin/pip install --quiet --constraint requirements.txt -e '.[dev,bench]'
	$(VENV)/bin/python -m bench $(BENCH_ARGS)

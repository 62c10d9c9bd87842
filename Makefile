# Voortgang: `make run` serves the app, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 5000
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp-install
PO_FILES := $(wildcard translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: install run-deps test-deps run test test-fast check bench bench-scale screenshots translations-extract translations-update translations-compile clean

install: $(STAMP) $(MO_FILES)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

translations-compile: $(MO_FILES)

# Collect the English source strings into translations/messages.pot.
translations-extract: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project Voortgang --msgid-bugs-address "" -o translations/messages.pot .

# Merge new source strings into the Dutch catalog (then translate them there).
translations-update: translations-extract
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

# Pango for the PDF documents (Debian packages, installed when missing and run as root).
run-deps:
	@tools/run-deps.sh

run: install run-deps
	$(BIN)/voortgang serve --host $(HOST) --port $(PORT)

# Chromium (Debian's) and fonts for the browser tests: installed when missing.
test-deps:
	@tools/test-deps.sh

test: install test-deps
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -x -q -m "not e2e and not slow"

# Supply chain: known vulnerabilities in the installed packages, and a static scan of our code.
check: install
	$(BIN)/bandit -q -c pyproject.toml -r voortgang
	tools/audit.sh $(BIN)

# The live-view benchmark (see docs/performance.md): starts the production server, prints figures.
bench: install
	$(BIN)/python -m bench.live

# Every page at the size of a given organisation (see docs/performance.md), in one process.
PEOPLE ?= 20
CONVERSATIONS ?= $(shell echo $$(( $(PEOPLE) * 10 )))
bench-scale: install
	$(BIN)/python -m bench.scale --people $(PEOPLE) --conversations $(CONVERSATIONS)

# The README's pictures, from a fresh demo organisation (docs/screenshots/; not part of make test).
screenshots: install test-deps
	@command -v pngquant >/dev/null 2>&1 || [ "$$(id -u)" != 0 ] || apt-get install -y -qq --no-install-recommends pngquant >/dev/null
	$(BIN)/python tools/screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info $(MO_FILES)

# The two commands of the README. Each creates .venv and installs what it needs on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.run-installed
DEV_STAMP := $(VENV)/.dev-installed
BENCH_STAMP := $(VENV)/.bench-installed
# The lock: requirements/{run,dev,bench}.txt, every version pinned with its hashes, compiled
# from pyproject.toml by `make lock` with uv (installed by it, at this version).
UV_VERSION := 0.13.10
LOCK_FILES := requirements/run.txt requirements/dev.txt requirements/bench.txt

.PHONY: run test lint format catalogs bench bench-sandbox bench-outbox bench-kannel bench-voice \
	bench-alerts bench-compare bench-ussd-kannel bench-body-limit bench-memory bench-results-day profile clean \
	lock lock-check \
	kannel-packages leaflet-packages browser-packages deploy-packages

run: $(RUN_STAMP)
	@$(BIN)/pybabel compile -d gateway/locales 2>/dev/null
	$(BIN)/python -m gateway demo

test: $(DEV_STAMP)
	@$(BIN)/pybabel compile -d gateway/locales 2>/dev/null
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(BIN)/python:
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv failed: installing Debian's python3-venv"; \
	  rm -rf $(VENV); \
	  apt-get update -qq && apt-get install -y -qq python3-venv && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip

# Installs come from the lock only (--require-hashes), then the project itself without its
# dependencies. lock-check stops here, in one line, when pyproject.toml's dependencies changed
# since the lock was compiled: `make lock` then.
$(RUN_STAMP): pyproject.toml requirements/run.txt | lock-check $(BIN)/python leaflet-packages
	$(BIN)/pip install -q --require-hashes -r requirements/run.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $@

$(DEV_STAMP): pyproject.toml requirements/dev.txt | lock-check $(BIN)/python kannel-packages \
		leaflet-packages browser-packages deploy-packages
	$(BIN)/pip install -q --require-hashes -r requirements/dev.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $@ $(RUN_STAMP)

lock-check:
	@$(PYTHON) requirements/stamp.py --check

# Compile the lock again from pyproject.toml (after adding a dependency, or after a merge that
# touched pyproject.toml or the lock files: one command). Versions already in the files are
# kept; LOCK_ARGS=--upgrade takes the newest everywhere, LOCK_ARGS="--upgrade-package NAME" one.
# bench.txt (every extra) is resolved first and constrains the other two, so a package has
# one version in all three.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 \
	--generate-hashes --quiet --custom-compile-command "make lock" $(LOCK_ARGS)
lock: | $(BIN)/python
	$(BIN)/pip install -q uv==$(UV_VERSION)
	$(UV_COMPILE) --extra dev --extra bench -o requirements/bench.txt
	$(UV_COMPILE) --extra dev -c requirements/bench.txt -o requirements/dev.txt
	$(UV_COMPILE) -c requirements/bench.txt -o requirements/run.txt
	$(BIN)/python requirements/stamp.py > requirements/pyproject.sha256
	@echo "lock written: $(LOCK_FILES) (commit them with requirements/pyproject.sha256)"

# The real-Kannel tests (tests/kannel) run Debian's bearerbox, smsbox and fakesmsc. Installed
# with apt when this runs as root on Debian and they are missing; anywhere else nothing
# happens, nothing fails, and those tests are skipped (the pytest header says so).
KANNEL_FILES := /usr/sbin/bearerbox /usr/sbin/smsbox /usr/lib/kannel/test/fakesmsc
kannel-packages:
	@missing=; for f in $(KANNEL_FILES); do [ -x "$$f" ] || missing=1; done; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ] \
	    && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing kannel and kannel-extras for the real-Kannel tests (apt-get)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel kannel-extras >/dev/null 2>&1 \
	    || { apt-get update -qq >/dev/null 2>&1 \
	         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kannel kannel-extras \
	              >/dev/null 2>&1; }; } \
	  || echo "could not install kannel: the real-Kannel tests will be skipped"; \
	fi

# The console (issue #16). Its leaflet is laid out by WeasyPrint, which needs Pango and a font
# with Arabic letters; its browser tests drive Debian's chromium through chromium-driver (no
# browser is ever downloaded). Installed with apt when this runs as root on Debian and they are
# missing; anywhere else nothing happens and the browser tests are skipped, saying why.
define apt_install
	if [ "$$(id -u)" = 0 ] && [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing $(1) (apt-get)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null 2>&1 \
	    || { apt-get update -qq >/dev/null 2>&1 \
	         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null 2>&1; }; } \
	  || echo "could not install $(1)"; \
	fi
endef

leaflet-packages:
	@if ! ldconfig -p 2>/dev/null | grep -q libpangoft2-1.0 \
	    || [ ! -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then \
	  $(call apt_install,libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core); \
	fi

browser-packages:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  $(call apt_install,chromium chromium-driver); \
	fi

# The deploy kit's checks (tests/deploy): `systemd-analyze verify` (Debian's systemd),
# `nginx -t` and a real nginx (nginx), `promtool` (prometheus); redis-server and openssl
# are there already. Installed with apt when this runs as root on Debian and one is
# missing; elsewhere those tests are skipped, saying why. Where systemd runs, Debian starts
# the nginx (port 80) and prometheus (9090) services it installs; the tests use only the
# binaries: `systemctl disable --now nginx prometheus` if they are not wanted there.
deploy-packages:
	@missing=; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing="$$missing nginx"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
	  $(call apt_install,$$missing); \
	fi

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .hypothesis

# The USSD benchmark (bench/run.py): gateway against its baseline (turns/s, Redis commands and
# worker CPU per turn), SMS turns/s, single-flight, backend slow and down, session bytes; a
# table, bench/results/latest.json and a chart. BENCH_ARGS=--quick
bench: $(BENCH_STAMP)
	@$(BIN)/pybabel compile -d gateway/locales 2>/dev/null
	$(BIN)/python bench/run.py $(BENCH_ARGS)

$(BENCH_STAMP): pyproject.toml requirements/bench.txt | lock-check $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements/bench.txt
	$(BIN)/pip install -q --no-deps -e .
	@touch $@ $(DEV_STAMP) $(RUN_STAMP)

# A flame graph (SVG) of one gateway worker under wrk's load, and its top entries, written to
# bench/results/ (py-spy, from the bench extra). PROFILE_ARGS="--channel sms --seconds 30"
profile: $(BENCH_STAMP)
	@$(BIN)/pybabel compile -d gateway/locales 2>/dev/null
	$(BIN)/python bench/profile.py $(PROFILE_ARGS)

# A hotline turn against the same screen on SMS and USSD, in one run (bench/voice.py).
# BENCH_ARGS="--turns 100 --rounds 3"
bench-voice: $(DEV_STAMP)
	@$(BIN)/pybabel compile -d gateway/locales 2>/dev/null
	$(BIN)/python bench/voice.py $(BENCH_ARGS)

# This tree's USSD turn against another commit's and the baseline, alternated in one run.
# BENCH_ARGS="--base 739bb07 --repeats 5"
bench-compare: $(BENCH_STAMP)
	@$(BIN)/pybabel compile -d gateway/locales 2>/dev/null
	$(BIN)/python bench/compare.py $(BENCH_ARGS)

bench-sandbox: $(DEV_STAMP)
	$(BIN)/python bench/sandbox_reads.py

# Messages/s that 1 and 2 sender workers send to the sink, against a bare stream consumer.
bench-outbox: $(DEV_STAMP)
	$(BIN)/python bench/outbox.py $(BENCH_ARGS)

# Alerts/s from the change feed to the sink (a sandbox of 100,000 students, seeded once under
# var/bench-alerts/, 10,000 new absences, 2 workers) against the outbox alone in the same run.
bench-alerts: $(DEV_STAMP)
	$(BIN)/python bench/alerts.py $(BENCH_ARGS)

# SMS/s in and out through a real Kannel (fakesmsc as the operator), with and without the
# gateway behind it; loopback only. BENCH_ARGS=--messages 100 for a short run.
bench-kannel: $(DEV_STAMP)
	$(BIN)/python bench/kannel.py $(BENCH_ARGS)

bench-ussd-kannel: $(DEV_STAMP)
	$(BIN)/python bench/ussd_kannel.py $(BENCH_ARGS)

# A worker's RSS while 10 MB and 200 MB bodies are POSTed to every webhook route (issue #21).
bench-body-limit: $(DEV_STAMP)
	$(BIN)/python bench/body_limit.py $(BENCH_ARGS)

# Results day in one run (bench/results_day.py): a class-marks publication for 100,000 pupils
# (published once under var/bench-results-day/) drains through the outbox while USSD and SMS
# turns arrive at 100/s: the turns' p99 with and without it, alerts/s; a table,
# bench/results/results_day.json and results_day.png. BENCH_ARGS=--quick for a short run.
bench-results-day: $(BENCH_STAMP)
	@$(BIN)/pybabel compile -d gateway/locales 2>/dev/null
	$(BIN)/python bench/results_day.py $(BENCH_ARGS)

# Redis memory per USSD session and per queued and sent outbox message (the capacity plan of
# docs/operations.md). BENCH_ARGS="--sessions 2000 --messages 100000"
bench-memory: $(DEV_STAMP)
	$(BIN)/python bench/redis_memory.py $(BENCH_ARGS)

# Message catalogs: extract msgids from the code, merge them into ar and fr, compile to .mo.
catalogs: $(DEV_STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k Np_:1,2 --no-location --omit-header \
	  --sort-output -o gateway/locales/messages.pot .
	$(BIN)/pybabel update -i gateway/locales/messages.pot -d gateway/locales \
	  --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel compile -d gateway/locales --statistics

# jvb-join developer targets. `scripts/setup` installs everything these need on a fresh Debian 12.
PYTHON ?= /usr/bin/python3
VENV   := build/venv
PYTEST := $(PYTHON) -m pytest

.PHONY: all test test-unit test-lab test-matrix test-long vermin deb repo demo bench fuzz lint clean

all: test

## test: everything CI runs: Python 3.7 syntax check, unit tests, lab tests on Debian 12, and the
## contract tests (real prosody on loopback, real systemd in the lab's base image, built by the lab tests)
test: vermin lint
	$(PYTEST) -q --durations=30 tests/unit tests/lab/standins/tests tests/integration tests/contract

## test-unit: the fast tier only (no root, no network, no real programs)
test-unit:
	$(PYTEST) -q tests/unit tests/lab/standins/tests

## test-lab: the lab tests only (root, booted Debian containers)
test-lab: deb
	$(PYTEST) -q tests/integration

## test-matrix: the join scenario on Debian 11, 12 and 13
test-matrix: deb
	JVB_LAB_RELEASES="bullseye bookworm trixie" $(PYTEST) -q -s -m matrix tests/integration

## test-long: slow extras, not in make test: piuparts (install, upgrade to the next version, purge),
## the slow lab scenarios (Apache, Let's Encrypt against pebble: a second server install each),
## more SIGKILL runs (unit, and the lab's joins killed on fresh hosts), the Jitsi repository faults,
## the regions module with its region groups and regions-off scenario
LONG_TESTS := tests/integration/test_apache.py tests/integration/test_letsencrypt_pebble.py
test-long: deb
	scripts/piuparts bookworm
	JVB_LAB_LONG=1 $(PYTEST) -q $(LONG_TESTS)
	JVB_CRASH_RUNS=200 $(PYTEST) -q tests/unit/test_crash.py
	JVB_LAB_LONG=1 JVB_LAB_KILLS=6 $(PYTEST) -q tests/integration/test_reliability.py -k killed
	JVB_LAB_LONG=1 $(PYTEST) -q tests/integration/test_regions.py
	JVB_LAB_LONG=1 $(PYTEST) -q tests/integration/test_faults.py -k "repository"

## fuzz: the token and config-writer properties with many more (random) examples
FUZZ_EXAMPLES ?= 10000
fuzz:
	JVB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) -q -k property tests/unit/test_formats_token.py
	JVB_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PYTEST) -q tests/unit/test_fuzz_writers.py

$(VENV)/.stamp:
	$(PYTHON) -m venv --system-site-packages $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check 'vermin>=1.6,<2'
	touch $@

## vermin: the code must run on Python 3.7 (Debian 10) and newer
vermin: $(VENV)/.stamp
	$(VENV)/bin/vermin --target=3.7- --violations --no-tips --eval-annotations --backport argparse jvbjoin

VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' jvbjoin/__init__.py)

## lint: lintian on the built source and binary package: no error, no warning
lint: deb
	lintian --fail-on error,warning build/jvb-join_$(VERSION)_*.changes build/jvb-join_$(VERSION)_all.deb

## deb: build the source and binary package into build/
deb:
	scripts/build-deb

## repo: the signed apt repository to publish, in build/repo (scripts/repo --help): jvb-join and
## Debian's python3-dbus-next for the releases whose archive lacks it. The signing key: JVB_REPO_KEY
## (id or fingerprint; its home JVB_REPO_GNUPGHOME, else gpg's default), or one made on first use in
## ~/.local/share/jvb-join/repo-key (0700, files 0600). JVB_REPO_URL: where it will be served.
repo: deb
	scripts/repo

## demo: the main job: a Jitsi Meet server and bridges joined by jvb-join, in the lab
demo: deb
	scripts/lab demo

## bench: join, re-run, doctor, start-up, fleet and server figures in the lab (build/bench.json)
bench: deb
	scripts/bench

clean:
	rm -rf build .pytest_cache .hypothesis

# One task runner. `make run` and `make test` are the README's Quick start.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := var/sample

.PHONY: run test lint typecheck sample clean system-deps fonts-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

run: fonts-deps $(STAMP)
	$(BIN)/talentmatch demo
	$(BIN)/talentmatch serve --demo-accounts --host 127.0.0.1 --port 8000

# Browser and Redis tests never skip here: TALENTMATCH_REQUIRE_BROWSER=1 makes a missing
# chromium fail, TALENTMATCH_REQUIRE_REDIS=1 an unreachable Redis (redis://127.0.0.1:6379/3,
# or TALENTMATCH_TEST_REDIS_URL). The tests run in TEST_WORKERS processes (pytest-xdist,
# one test module per process at a time, so module fixtures are built once); TEST_WORKERS=0
# runs them in this process.
TEST_WORKERS ?= 2
test: system-deps $(STAMP)
	TALENTMATCH_REQUIRE_BROWSER=1 TALENTMATCH_REQUIRE_REDIS=1 $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy data embeddings matching api evaluation benchmarks

clean:
	rm -rf $(VENV) var

# Debian packages for browser tests (chromium) and Chinese text in pictures (fonts-noto-cjk).
# Installed when missing and this is root (or password-less sudo) on Debian; otherwise it
# fails at once with the command to run. `make test` and `make run` call the same script.
system-deps:
	.ci/system-deps.sh browser fonts

fonts-deps:
	.ci/system-deps.sh fonts

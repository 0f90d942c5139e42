# Kasa: the two commands a new user needs are `make run` and `make test`.
GO ?= go

.PHONY: run test build generate check-generated vet fmt bench

## run: start the product (a project-local PostgreSQL under .data/ unless DATABASE_URL is set; sandbox mode unless providers are configured)
run:
	$(GO) run ./cmd/web

## test: templ freshness, go vet, and every test (real Postgres, headless Chromium)
test: check-generated vet
	$(GO) test -count=1 -timeout 15m ./...

## build: a binary in bin/
build:
	$(GO) build -o bin/kasa ./cmd/web

## generate: regenerate the templ components
generate:
	$(GO) tool templ generate

## check-generated: fail when a *_templ.go file is missing or out of date with its .templ
check-generated:
	@before=$$(find . -name '*_templ.go' -not -path './.data/*' | sort | xargs -r sha256sum); \
	$(GO) tool templ generate >/dev/null || exit 1; \
	after=$$(find . -name '*_templ.go' -not -path './.data/*' | sort | xargs -r sha256sum); \
	if [ "$$before" != "$$after" ]; then \
		echo "generated templ files were stale or missing; 'go tool templ generate' has refreshed them: commit them"; exit 1; \
	fi

vet:
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the performance benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Kasa: the two commands a new user needs are `make run` and `make test`.
GO ?= go

.PHONY: run test build generate check-generated vet lint fmt bench

# BIN is the binary that build writes and run starts.
BIN ?= bin/kasa

## run: build bin/kasa and start it (a project-local PostgreSQL under .data/ unless DATABASE_URL is set; sandbox mode unless providers are configured)
# The binary is built first and then run directly, not through `go run`, so
# that Ctrl-C or SIGTERM reaches it, it stops gracefully, and make does not
# report the stop as a failure.
run: build
	@echo "starting $(BIN); Ctrl-C stops it gracefully"
	@$(BIN)

## test: templ freshness, go vet, staticcheck, errcheck, and every test (real Postgres, headless Chromium)
# Tests call t.Parallel(); most of a handler test's time is waiting for a
# job or the browser, so four run at once even on two cores (each package
# has its own throwaway cluster, with room for their connections).
test: check-generated vet lint
	$(GO) test -count=1 -parallel 4 -timeout 15m ./...

## build: the binary $(BIN) (bin/kasa)
build:
	@echo "building $(BIN): the first build compiles every dependency and can take a minute or more; later builds take seconds"
	@$(GO) build -o $(BIN) ./cmd/web

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

## lint: staticcheck and errcheck (both pinned in go.mod); either one's findings fail the build
lint:
	$(GO) tool staticcheck ./...
	$(GO) tool errcheck ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the performance benchmarks
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

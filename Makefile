# The whole suite: `make test`. CI runs exactly this (.ci/run).
GO ?= go
PKGS ?= ./...

.PHONY: test deps fmt vet staticcheck unit scale static build bench bench-smoke

test: deps fmt vet staticcheck static unit scale \
	bench-smoke

deps:
	@scripts/test-deps

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

staticcheck:
	$(GO) tool staticcheck $(PKGS)

unit:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# Tests at scale (a 20,001-member group) run without the race detector,
# which would make them ten times slower; the same code is race-tested at
# small scale above.
scale:
	$(GO) test -count=1 -timeout 10m -run '^TestScale' ./internal/provision/

# The binary must build without cgo, so it ships as one static file.
static:
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/o365prov

build:
	CGO_ENABLED=0 $(GO) build -o bin/o365prov ./cmd/o365prov

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

# o365prov bench at 1,000 users: fails when writes per user exceed 3 or 1 %
# of requests are answered 429 (counts, not times), so the benchmark never
# rots. See docs/bench.md.
bench-smoke:
	$(GO) run ./cmd/o365prov bench --users 1000 --time-scale 50 --check

# ---------------------------------------------------------------------------
# SDK conformance: Microsoft's Graph SDK for Go (msgraph-sdk-go + azidentity)
# against `o365prov fake-tenant --tls`, unmodified, compression on. It is a Go
# module of its own (conformance/msgraphsdk) so the SDK never enters the
# product's go.mod, and it is NOT part of `make test`: a cold build of the SDK
# takes far longer than the rest of the suite (see CONTRIBUTING.md and
# BENCHMARKS.md). No separate `go vet`: it would analyse the whole SDK for
# facts, as long again as the build; `go test` runs its own vet checks.
.PHONY: test-sdk
SDK_DIR := conformance/msgraphsdk

test-sdk:
	CGO_ENABLED=0 $(GO) build -o bin/o365prov-sdk-conformance ./cmd/o365prov
	cd $(SDK_DIR) && \
		O365PROV_BIN=$(CURDIR)/bin/o365prov-sdk-conformance $(GO) test -count=1 -timeout 60m -v ./...

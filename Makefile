# The whole suite: `make test`. CI runs exactly this (.ci/run).
GO ?= go
PKGS ?= ./...

.PHONY: test deps fmt vet staticcheck unit build bench

test: deps fmt vet staticcheck unit

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

build:
	CGO_ENABLED=0 $(GO) build -o bin/o365prov ./cmd/o365prov

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

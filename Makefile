# The whole suite: `make test`. CI runs exactly this (.ci/run).
GO ?= go
PKGS ?= ./...
# Every step but the race-detected tests (which need cgo) builds as the
# shipped binary does, without cgo, so vet, staticcheck, static and e2e
# share one compilation of the tree instead of two.
NOCGO = CGO_ENABLED=0

.PHONY: test deps fmt vet staticcheck unit e2e static build bench

test: deps fmt vet staticcheck static unit e2e

deps:
	@scripts/test-deps

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(NOCGO) $(GO) vet $(PKGS)

staticcheck:
	$(NOCGO) $(GO) tool staticcheck $(PKGS)

# Two tiers (CONTRIBUTING.md, "Test tiers"). Every test runs under the race
# detector except the heavy ones — end to end over many cycles, large data,
# processes or browsers started — which skip under -short.
unit:
	$(GO) test -race -short -count=1 -timeout 20m $(PKGS)

# The heavy tests, each once and without the race detector, which would make
# them five to ten times slower (the code they drive is race-tested at small
# scale above). scripts/e2e-tests finds them: the tests that call
# testing.Short(). Scale tests (a 20,001-member group) are among them.
e2e:
	@run=$$(scripts/e2e-tests names); pkgs=$$(scripts/e2e-tests pkgs); \
	echo "$(NOCGO) $(GO) test -count=1 -timeout 20m -run '^($$run)\$$' $$pkgs"; \
	$(NOCGO) $(GO) test -count=1 -timeout 20m -run "^($$run)\$$" $$pkgs

# The binary must build without cgo, so it ships as one static file.
static:
	$(NOCGO) $(GO) build -o /dev/null ./cmd/o365prov

build:
	$(NOCGO) $(GO) build -o bin/o365prov ./cmd/o365prov

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

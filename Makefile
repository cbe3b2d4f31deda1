# The whole suite: `make test`. CI runs exactly this (.ci/run).
GO ?= go
PKGS ?= ./...
# Every step but the race-detected tests (which need cgo) builds as the
# shipped binary does, without cgo, so vet, staticcheck, static and e2e
# share one compilation of the tree instead of two.
NOCGO = CGO_ENABLED=0

.PHONY: test deps fmt vet staticcheck unit e2e static build bench bench-smoke

test: deps fmt vet staticcheck static unit e2e bench-smoke

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

# ---- Release and deployment ------------------------------------------------
# Kept apart from the test targets above. `make release` cross-builds static
# binaries (no cgo) into $(DIST) with the version, commit and date stamped
# (`o365prov version` prints them); `make release-check` runs the
# linux/amd64 one. docs/deploy.md describes each way to install.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
DATE    ?= $(shell date -u +%Y-%m-%dT%H:%M:%SZ)
DIST    ?= dist
PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
# Evaluated once: a build of several minutes must not stamp one binary and
# check another stamp.
VERSION := $(VERSION)
COMMIT  := $(COMMIT)
DATE    := $(DATE)
RELEASE_LDFLAGS = -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT) -X main.date=$(DATE)

.PHONY: release release-check deploy-check k8s-check systemd-check cluster-e2e

release:
	@rm -rf $(DIST) && mkdir -p $(DIST)
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; ext=; [ "$$os" = windows ] && ext=.exe; \
		out=$(DIST)/o365prov-$(VERSION)-$$os-$$arch$$ext; echo "build $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags "$(RELEASE_LDFLAGS)" -o $$out ./cmd/o365prov || exit 1; \
	done
	@cd $(DIST) && sha256sum o365prov-* > SHA256SUMS && cat SHA256SUMS

# The linux/amd64 binary runs and prints the stamp it was built with.
release-check: release
	@scripts/release-check $(DIST)/o365prov-$(VERSION)-linux-amd64 $(VERSION) $(COMMIT) $(DATE)

# The deployment files: the Kubernetes manifests decoded strictly by the
# Kubernetes API's own Go types (a module of its own, so k8s.io/api never
# enters the product's go.mod), and the systemd unit by systemd-analyze.
deploy-check: k8s-check systemd-check

k8s-check:
	cd deploy/kubernetes/check && $(GO) test -count=1 ./...

systemd-check:
	@scripts/systemd-check deploy/systemd/o365prov.service

# Clustered mode end to end: three `o365prov run` processes on PostgreSQL
# against the throttling fake tenant (SIGKILL, SIGSTOP, rolling SIGTERM).
# About four minutes; without the race detector.
cluster-e2e:
	$(GO) test -tags e2e -count=1 -timeout 20m -run '^TestCluster' ./internal/provision/

# syntax=docker/dockerfile:1
# o365prov as a container image (docs/deploy.md, "Container"):
#   docker build --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) \
#     --build-arg DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ) -t o365prov .
# A static binary (no cgo: SQLite is pure Go) on a distroless base, run as
# an unprivileged user.

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=unknown
ARG DATE=unknown
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.date=${DATE}" \
      -o /out/o365prov ./cmd/o365prov \
 && /out/o365prov version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/o365prov /usr/local/bin/o365prov
# nonroot (65532): o365prov needs no privilege. Mount the configuration at
# /etc/o365prov and, for SQLite, a volume at /var/lib/o365prov.
USER 65532:65532
WORKDIR /var/lib/o365prov
VOLUME ["/var/lib/o365prov"]
# 9090: console and /healthz; 9031: the sign-in service.
EXPOSE 9090 9031
# Healthy while the console answers /healthz. It needs the console on (its
# listen address at port 9090 in the container); without it, run the
# container with --no-healthcheck. O365PROV_HEALTH_URL changes the URL.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/o365prov", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/o365prov"]
CMD ["run", "--config", "/etc/o365prov/o365prov.yaml", "--log-format", "json"]

# syntax=docker/dockerfile:1
#
# colearn container image. Used by docker-compose.yml; see the comments there
# for a production deployment (TLS reverse proxy + PostgreSQL).
#
# The image contains no PostgreSQL server binaries, so DATABASE_URL must be set
# (the private-cluster fallback of `colearn serve` is for bare-metal installs).

# ---- build ------------------------------------------------------------------
FROM golang:1.26-bookworm AS builder
WORKDIR /src

# Download modules first so that source edits do not invalidate this layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/colearn ./cmd/colearn

# ---- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 colearn \
 && useradd --system --uid 10001 --gid colearn --home-dir /data --no-create-home --shell /usr/sbin/nologin colearn \
 && mkdir -p /data \
 && chown colearn:colearn /data

COPY --from=builder /out/colearn /usr/local/bin/colearn

# Metrics listen on all of the container's interfaces (127.0.0.1 would be
# unreachable from outside it), and are not published by this image: reach
# them on a private network (docker-compose.yml exposes them to the compose
# network only), never on the public port.
ENV COLEARN_LISTEN=:8080 \
    COLEARN_METRICS_LISTEN=:9464 \
    COLEARN_DATA=/data

VOLUME ["/data"]
EXPOSE 8080
USER colearn:colearn
WORKDIR /data

# `colearn healthcheck` GETs http://127.0.0.1:<port of COLEARN_LISTEN>/healthz
# and exits 0 on 200, 1 otherwise; no curl/wget needed in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["colearn", "healthcheck"]

ENTRYPOINT ["colearn"]
CMD ["serve"]

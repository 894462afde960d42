# syntax=docker/dockerfile:1
#
# The epom image: the one `epom` binary (web server, worker, scheduler, migrations, tenant
# administration) on a distroless base with CA certificates and time zone data, run as the
# unprivileged user 65532. The Helm chart in helm/epom runs it with a read-only root
# filesystem; the binary writes nothing.
#
#   docker build -t ghcr.io/epom-cz/epom:dev .
#   docker buildx build --platform linux/amd64,linux/arm64 -t … .
#
# The build stages run on the builder's own platform and cross-compile Go (no cgo), so a
# multi-platform build emulates nothing.

ARG NODE_VERSION=20
ARG GO_VERSION=1.26

# --- the web app: frontend/dist, embedded into the binary by frontend/embed.go ------------
FROM --platform=$BUILDPLATFORM node:${NODE_VERSION}-bookworm-slim AS frontend
WORKDIR /src/frontend
# The lock file alone first, so the npm layer is reused while only sources change.
COPY frontend/package.json frontend/package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

# --- the binary ---------------------------------------------------------------------------
FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
COPY --from=frontend /src/frontend/dist ./frontend/dist
# -trimpath: no build machine paths in the binary; -s -w: no symbol and debug tables;
# -buildvcs=false: .git is not in the build context.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false -ldflags='-s -w' -o /out/epom ./cmd/epom

# --- the runtime --------------------------------------------------------------------------
# distroless/static: CA certificates, tzdata and /etc/passwd with the nonroot user, nothing
# else (no shell, no package manager).
FROM gcr.io/distroless/static-debian12:nonroot
LABEL org.opencontainers.image.title="epom" \
      org.opencontainers.image.description="The agendas of Czech municipalities, one tenant per municipality" \
      org.opencontainers.image.source="https://github.com/epom-cz/epom"
COPY --from=build /out/epom /epom
# Numeric, so Kubernetes can verify runAsNonRoot without reading /etc/passwd.
USER 65532:65532
# The binary's default is loopback (for a developer machine); in a container the port must
# be reachable from outside.
ENV EPOM_HTTP_ADDR=:8080
EXPOSE 8080
ENTRYPOINT ["/epom"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# almanac: one image for every role (serve, worker, scheduler, load, run, ...). docs/deploy.md.
#
#   podman build -t almanac .                       compile in a Debian 12 build stage (> 5 min)
#   scripts/container_image.sh --binary PATH        reuse a binary CI already built (seconds):
#       --build-arg ALMANAC_BIN_STAGE=prebuilt with the binary at prebuilt/almanac in the context
#
# Roles: the entrypoint is `almanac`, so the command is the role:
#   podman run almanac serve --listen 0.0.0.0:8080      (the default command)
#   podman run almanac worker | scheduler PIPELINES... | load SOURCES.yaml | run PIPELINES...
# The store comes from ALMANAC_STORE (postgresql://...), or a workspace under /var/lib/almanac.

# Which stage provides /out/almanac: `build` (from source) or `prebuilt` (a binary from CI).
# podman 4.3 (buildah 1.28) needs it as --build-arg even for the default (it does not expand
# the default in FROM); scripts/container_image.sh passes it.
ARG ALMANAC_BIN_STAGE=build
ARG DEBIAN_IMAGE=docker.io/library/debian:bookworm-slim

# ----------------------------------------------------------------------------- build
# The same scripts CI runs: scripts/deps.sh build installs the toolchain and libraries, the
# `ci` CMake preset compiles (-O2, -Werror); only the binary is built here.
FROM ${DEBIAN_IMAGE} AS build
WORKDIR /src
COPY scripts/deps.sh scripts/deps.sh
RUN scripts/deps.sh build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --preset ci -DALMANAC_BUILD_BENCH=OFF >/dev/null \
 && cmake --build --preset ci --target almanac -j "$(nproc)" \
 && mkdir -p /out && strip -o /out/almanac build/ci/src/cli/almanac

# ----------------------------------------------------------------------------- prebuilt
# A binary built outside (CI's build/ci/src/cli/almanac, stripped), put in the build context
# as prebuilt/almanac by scripts/container_image.sh. Only used with ALMANAC_BIN_STAGE=prebuilt;
# buildah and BuildKit skip the stage otherwise.
FROM ${DEBIAN_IMAGE} AS prebuilt
COPY prebuilt/almanac /out/almanac

FROM ${ALMANAC_BIN_STAGE} AS bin

# ----------------------------------------------------------------------------- runtime
FROM ${DEBIAN_IMAGE} AS runtime
# Only the shared libraries the binary links (ldd) and those it opens on first use: libpq5
# (PostgreSQL store), libcurl4 (loaders), libxlsxwriter4 (.xlsx exports). tzdata: schedules'
# time zones; ca-certificates: HTTPS loads; curl: the HEALTHCHECK.
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libsimdjson14 libyaml-cpp0.7 libnlopt-cxx0 libsqlite3-0 libssl3 \
      libpq5 libcurl4 libxlsxwriter4 tzdata ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 almanac \
 && useradd --system --uid 10001 --gid almanac --home-dir /var/lib/almanac --create-home \
      --shell /usr/sbin/nologin almanac

COPY --from=bin /out/almanac /usr/local/bin/almanac

# Labels after the package layer, so that a new commit reuses it (podman build --layers).
ARG ALMANAC_VERSION=0.0.0-dev
ARG ALMANAC_COMMIT=unknown
ARG ALMANAC_CREATED=unknown
LABEL org.opencontainers.image.title="almanac" \
      org.opencontainers.image.description="Reproducible macroeconomic forecasting: data vintages, pipelines, registry, serving" \
      org.opencontainers.image.version="${ALMANAC_VERSION}" \
      org.opencontainers.image.revision="${ALMANAC_COMMIT}" \
      org.opencontainers.image.created="${ALMANAC_CREATED}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"


USER 10001:10001
WORKDIR /var/lib/almanac
# A workspace under the home folder unless ALMANAC_STORE names a shared store; JSON logs
# (ECS) on stdout for the container runtime. ALMANAC_PORT: the port the HEALTHCHECK probes
# (keep it equal to --listen's port).
ENV ALMANAC_WORKSPACE=/var/lib/almanac/workspace \
    ALMANAC_LOG_FORMAT=json \
    ALMANAC_PORT=8080
EXPOSE 8080
# almanac serve drains in-flight requests on SIGTERM and exits 0 (--shutdown-timeout).
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${ALMANAC_PORT}/healthz" || exit 1
ENTRYPOINT ["almanac"]
CMD ["serve", "--listen", "0.0.0.0:8080"]

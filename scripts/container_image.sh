#!/usr/bin/env bash
# Builds the almanac image with podman (docs/deploy.md).
#   scripts/container_image.sh --binary build/ci/src/cli/almanac [-t almanac:test]
#       the runtime image around a binary already built (CI's): no compiler, seconds
#   scripts/container_image.sh --from-source [-t almanac:latest]
#       the multi-stage build from the repository (a Debian 12 build stage; > 5 minutes)
# Makes the Debian base image first when podman lacks it (scripts/container_base.sh).
# Labels: version from CMakeLists.txt, commit from git (when available).
set -euo pipefail
cd "$(dirname "$0")/.."

tag=almanac:latest
binary=""
from_source=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --from-source) from_source=1; shift ;;
    -t|--tag) tag=$2; shift 2 ;;
    *) echo "usage: $0 --binary PATH | --from-source [-t TAG]" >&2; exit 2 ;;
  esac
done
if [ -z "$binary" ] && [ "$from_source" = 0 ]; then
  echo "usage: $0 --binary PATH | --from-source [-t TAG]" >&2
  exit 2
fi

scripts/container_base.sh

version=$(sed -n 's/^project(almanac VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt | head -n 1)
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
args=(--build-arg "ALMANAC_VERSION=${version:-0.0.0}" --build-arg "ALMANAC_COMMIT=$commit"
      --build-arg "ALMANAC_CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ)" --layers -t "$tag"
      # Docker image format: the OCI format has no HEALTHCHECK.
      --format docker)
# The same values as labels of the final image: buildah 1.28 reuses a cached LABEL layer when
# only a build argument changed, which would keep an old commit.
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
args+=(--label "org.opencontainers.image.version=${version:-0.0.0}" --label "org.opencontainers.image.revision=$commit"
       --label "org.opencontainers.image.created=$created")

if [ "$from_source" = 1 ]; then
  # RUN apt-get needs the host network to reach the mirror.
  # ALMANAC_BIN_STAGE given explicitly: buildah 1.28 (podman 4.3) does not apply the ARG's
  # default to `FROM ${ALMANAC_BIN_STAGE}` and looks for an image named "build".
  exec podman build --network host "${args[@]}" --build-arg ALMANAC_BIN_STAGE=build -f Dockerfile .
fi

# A context of three files: the Dockerfile, an empty .dockerignore and the stripped binary.
ctx=$(mktemp -d /tmp/almanac-image-XXXXXX)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/prebuilt"
cp Dockerfile "$ctx/Dockerfile"
: > "$ctx/.dockerignore"
strip -o "$ctx/prebuilt/almanac" "$binary"
podman build --network host "${args[@]}" --build-arg ALMANAC_BIN_STAGE=prebuilt -f "$ctx/Dockerfile" "$ctx"

#!/usr/bin/env bash
# Makes the Debian 12 base image the Dockerfile starts FROM, without a container registry:
# a minimal Debian bookworm root file system from Debian's apt mirror (mmdebstrap), imported
# into podman as docker.io/library/debian:bookworm-slim (the name the Dockerfile uses).
#   scripts/container_base.sh            import the image when podman does not have it yet
#   scripts/container_base.sh --force    rebuild the tar and re-import
# The tar is cached as /var/tmp/almanac-deb12-YYYYMMDD.tar (one per day, so the base gets the
# mirror's security updates daily; older ones are removed). ALMANAC_BASE_TAR overrides the path.
#
# On a machine that has no podman configuration yet and where we run as root (CI, a throwaway
# VM), it also writes /etc/containers/containers.conf for runc with cgroupfs and no default
# ulimits: crun fails here ("cgroups in hybrid mode not supported") and setting the NOFILE and
# NPROC limits is not permitted. A machine with its own configuration keeps it.
# The measured recipe and its timings: docs/deploy.md ("Building here").
set -euo pipefail

image=docker.io/library/debian:bookworm-slim
force=0
[ "${1:-}" = "--force" ] && force=1

for tool in podman mmdebstrap runc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "container_base: $tool is missing: scripts/deps.sh test installs it" >&2
    exit 1
  fi
done

conf=/etc/containers/containers.conf
if [ "$(id -u)" -eq 0 ] && [ ! -e "$conf" ]; then
  mkdir -p /etc/containers
  cat > "$conf" <<'CONF'
# Written by almanac's scripts/container_base.sh (runc + cgroupfs; see docs/deploy.md).
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
  echo "container_base: wrote $conf" >&2
fi

if [ "$force" = 0 ] && podman image exists "$image"; then
  exit 0
fi

tar=${ALMANAC_BASE_TAR:-/var/tmp/almanac-deb12-$(date -u +%Y%m%d).tar}
if [ "$force" = 1 ] || [ ! -s "$tar" ]; then
  # Yesterday's and older tars are stale: the mirror has moved on.
  find /var/tmp -maxdepth 1 -name 'almanac-deb12-*.tar' ! -path "$tar" -delete 2>/dev/null || true
  echo "container_base: mmdebstrap bookworm -> $tar" >&2
  # minbase as the official slim image: no documentation, man pages or apt lists (a Dockerfile
  # runs apt-get update first anyway); /usr merged by mmdebstrap's hook instead of the usrmerge
  # package, which would pull in perl (47 MB).
  mmdebstrap --variant=minbase --quiet --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    --format=tar bookworm "${tar%.tar}.part.tar"
  mv "${tar%.tar}.part.tar" "$tar"
fi
podman import --quiet --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["bash"]' "$tar" "$image" >/dev/null
echo "container_base: imported $image from $tar" >&2

#!/usr/bin/env bash
# The image test (npm run test:image): builds the real Dockerfile and runs the container the way
# users do, on a machine with no image registry and no running Docker engine. As root:
#
#   1. starts a private dockerd (scripts/image-test/docker-engine.sh), stopped by its pid at the end;
#   2. builds stand-ins for the Dockerfile's FROM images (scripts/image-test/stand-in-bases.sh),
#      once per machine;
#   3. builds the Dockerfile unchanged, with PG_SOURCE=debian (apt.postgresql.org is not reachable
#      here; KEEPSAKE_IMAGE_TEST_PG_SOURCE=pgdg builds the full image where it is);
#   4. runs test/image with jest against it, and prints the image's size and layers.
#
# The engine's image store stays in KEEPSAKE_IMAGE_TEST_CACHE (default /var/tmp/keepsake-image-test)
# so later runs reuse the stand-ins and the build's layers; remove that folder to start afresh.
# Needs dockerd, debootstrap and tar: bash scripts/install-system-deps.sh installs them. The docker
# client is the one on PATH, or KEEPSAKE_TEST_DOCKER. Arguments go to jest (npm run test:image -- -t stop).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$EUID" -ne 0 ]; then
  echo "image-test: run it as root: it starts its own Docker engine (dockerd)" >&2
  exit 1
fi
# Any Docker client from 20.10 on; Debian's docker.io brings one beside its engine.
DOCKER=${KEEPSAKE_TEST_DOCKER:-$(command -v docker || true)}
[ -n "$DOCKER" ] || { echo "image-test: no docker client; bash scripts/install-system-deps.sh installs Debian's docker.io" >&2; exit 1; }
command -v debootstrap >/dev/null 2>&1 || { echo "image-test: debootstrap is missing; bash scripts/install-system-deps.sh installs it" >&2; exit 1; }
IMAGE=keepsake:image-test
PG_SOURCE=${KEEPSAKE_IMAGE_TEST_PG_SOURCE:-debian}
# The classic builder: every client and engine has it, and what builds there builds with BuildKit.
export DOCKER_BUILDKIT=0

# shellcheck source=scripts/image-test/docker-engine.sh
source scripts/image-test/docker-engine.sh
# shellcheck source=scripts/image-test/stand-in-bases.sh
source scripts/image-test/stand-in-bases.sh

started=$SECONDS
engine_start
trap engine_stop EXIT

build_stand_in_bases

echo "image-test: building $IMAGE from the Dockerfile with PG_SOURCE=$PG_SOURCE"
build_log=$(mktemp)
if ! "$DOCKER" build --network host --build-arg "PG_SOURCE=$PG_SOURCE" -t "$IMAGE" . >"$build_log" 2>&1; then
  tail -n 40 "$build_log" >&2
  rm -f "$build_log"
  echo "image-test: the build failed" >&2
  exit 1
fi
grep -E '^install-system-deps: (PostgreSQL|staged)' "$build_log" || true
rm -f "$build_log"
# The classic builder's cache of the build stages is their untagged images: keep a week of them,
# so the next run reuses them, and let older builds go.
"$DOCKER" image prune --force --filter until=168h >/dev/null
echo "image-test: built in $((SECONDS - started)) s"

KEEPSAKE_TEST_DOCKER="$DOCKER" KEEPSAKE_TEST_IMAGE="$IMAGE" npx jest --config jest.image.config.js "$@"

echo "image-test: $IMAGE is $("$DOCKER" image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.1f MB", $1 / 1e6}'); its layers, newest first:"
"$DOCKER" history --no-trunc --format '{{.Size}}\t{{.CreatedBy}}' "$IMAGE" |
  sed -E 's@/bin/sh -c #\(nop\) +@@; s@\t(\|[0-9]+ [^\t]*)?/bin/sh -c @\tRUN @' |
  awk -F'\t' '$1 != "0B" { printf "  %8s  %s\n", $1, ($2 == "" ? "(the base image)" : substr($2, 1, 100)) }'
echo "image-test: passed in $((SECONDS - started)) s"

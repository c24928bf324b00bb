#!/usr/bin/env bash
# Installs the system tools keepsake runs: PostgreSQL client and server binaries (pg_dump,
# pg_restore; initdb and postgres for throwaway restore-test clusters), zstd and gzip.
# Shared by CI (.ci/run) and the Dockerfile. A no-op when everything is already present.
set -euo pipefail

need=()
command -v zstd >/dev/null 2>&1 || need+=(zstd)
command -v gzip >/dev/null 2>&1 || need+=(gzip)
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-system-deps: everything present"
  exit 0
fi

echo "install-system-deps: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
# Debian's postgresql package creates and starts a cluster; keepsake needs only the binaries.
if command -v pg_lsclusters >/dev/null 2>&1; then
  pg_lsclusters -h 2>/dev/null | while read -r version name _; do
    $SUDO pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
  done
fi

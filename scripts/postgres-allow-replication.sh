#!/bin/sh
# For the example `db` service (docker-compose.yml): the official postgres image runs this once,
# when it first initialises its data directory (/docker-entrypoint-initdb.d). Its pg_hba.conf lets
# every host in for normal connections but for replication only from the server's own host; with
# PITR=on keepsake streams WAL over the replication protocol from another container, with the
# password of POSTGRES_USER. README, "Point-in-time recovery" shows the same line for your server.
set -eu
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"

#!/usr/bin/env bash
# Restores a backup made by deploy/backup.sh into this compose site:
#   deploy/restore.sh DIR
# The server, Grafana and Prometheus are stopped meanwhile; PostgreSQL's gaswatch tables and
# InfluxDB's gaswatch database are replaced by the backup's, and the server's DATA_DIR too. On a
# new host: the checkout, .env (the same secrets as before) and the TLS files first, then
# `docker compose up -d postgres influxdb` and this script. docs/deploy.md "Backups".
set -euo pipefail
cd "$(dirname "$0")/.."

src=${1:?usage: deploy/restore.sh DIR (a directory made by deploy/backup.sh)}
(cd "$src" && sha256sum --check --quiet SHA256SUMS) || {
  echo "restore.sh: $src fails its checksums: nothing was restored" >&2
  exit 1
}

docker compose stop server grafana prometheus
docker compose up -d --wait postgres influxdb

echo "PostgreSQL ← $src/postgres.dump"
# One transaction: a failed restore leaves the database as it was.
docker compose exec -T postgres pg_restore -U gaswatch -d gaswatch --clean --if-exists --single-transaction \
  <"$src/postgres.dump"

echo "InfluxDB ← $src/influxdb.tar"
docker compose exec -T influxdb sh -c '
  set -e
  rm -rf /tmp/gaswatch-restore && mkdir /tmp/gaswatch-restore
  tar -C /tmp/gaswatch-restore -xf -
  influx -username admin -password "$INFLUXDB_ADMIN_PASSWORD" -execute "DROP DATABASE gaswatch"
  influxd restore -portable -db gaswatch -host 127.0.0.1:8088 /tmp/gaswatch-restore
  rm -rf /tmp/gaswatch-restore' <"$src/influxdb.tar"

echo "server DATA_DIR ← $src/server-data.tar"
docker compose run --rm -T --no-deps --user root --entrypoint sh server -c '
  set -e
  find /var/lib/gaswatch -mindepth 1 -delete
  tar -C /var/lib/gaswatch -xf -
  chown -R node:node /var/lib/gaswatch' <"$src/server-data.tar"

# mqtt-auth exports the restored gateways' logins, postgres-grants renews Grafana's login.
docker compose up -d
echo "restored from $src"

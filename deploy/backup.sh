#!/usr/bin/env bash
# Backs up a running compose site (docker-compose.yml) into one directory, without stopping it:
#   deploy/backup.sh [DIR]        (default: backups/<UTC time>, beside docker-compose.yml)
# - PostgreSQL (alarms, users, households, permits …): pg_dump, one consistent snapshot.
# - InfluxDB (readings, device events): influxd backup -portable of the gaswatch database.
# - The server's DATA_DIR (ingest journal, device registry): a tar of the volume.
# - SHA256SUMS of the three, which deploy/restore.sh checks first.
# Grafana's dashboards and data sources are files in deploy/ (in git); Mosquitto's logins are
# exported again from PostgreSQL at every start. Copy the directory off this host (it holds the
# password hashes of every user and gateway: keep it as private as .env). docs/deploy.md "Backups".
set -euo pipefail
cd "$(dirname "$0")/.."

dest=${1:-backups/$(date -u +%Y%m%dT%H%M%SZ)}
if [ -e "$dest" ] && [ -n "$(ls -A "$dest")" ]; then
  echo "backup.sh: $dest is not empty: give a new directory" >&2
  exit 1
fi
mkdir -p "$dest"
chmod 700 "$dest"

echo "PostgreSQL → $dest/postgres.dump"
docker compose exec -T postgres pg_dump -U gaswatch -d gaswatch --format=custom >"$dest/postgres.dump"

echo "InfluxDB → $dest/influxdb.tar"
# influxd backup talks to the meta service on 127.0.0.1:8088 inside the container
# (INFLUXDB_BIND_ADDRESS in docker-compose.yml).
docker compose exec -T influxdb sh -c '
  set -e
  rm -rf /tmp/gaswatch-backup
  influxd backup -portable -db gaswatch -host 127.0.0.1:8088 /tmp/gaswatch-backup >/dev/null
  tar -C /tmp/gaswatch-backup -cf - .
  rm -rf /tmp/gaswatch-backup' >"$dest/influxdb.tar"

echo "server DATA_DIR → $dest/server-data.tar"
docker compose exec -T server tar -C /var/lib/gaswatch -cf - . >"$dest/server-data.tar"

(cd "$dest" && sha256sum postgres.dump influxdb.tar server-data.tar >SHA256SUMS)
echo "backed up into $dest:"
ls -l "$dest"

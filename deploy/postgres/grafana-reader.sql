-- Grafana's login at PostgreSQL: it may read the tables its dashboards query and nothing else
-- (not users, sessions, tokens, gateways or the audit log), and change nothing. Run by the compose
-- service `postgres-grants` after the server's migrations (`mqtt-auth` ran them), at every
-- `docker compose up`: idempotent, and it sets the password from GRAFANA_DB_PASSWORD each time,
-- so changing it in .env takes effect at the next `up`.
--   psql -v ON_ERROR_STOP=1 -v reader_password=… -f grafana-reader.sql
SELECT 'CREATE ROLE grafana_reader LOGIN'
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'grafana_reader')
\gexec
ALTER ROLE grafana_reader WITH LOGIN PASSWORD :'reader_password';
GRANT CONNECT ON DATABASE gaswatch TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON alarms, alarm_events, areas TO grafana_reader;
-- Of homes and notifications only what places an alarm in its area and times the response: not
-- the occupants, their phone numbers or the messages' text.
GRANT SELECT (id, area) ON households TO grafana_reader;
GRANT SELECT (device, household_id) ON household_detectors TO grafana_reader;
GRANT SELECT (alarm_id, channel, medium, outcome, queued_at, sent_at, delivered_at, failed_at)
  ON notifications TO grafana_reader;

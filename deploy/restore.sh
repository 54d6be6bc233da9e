#!/usr/bin/env bash
# Restore a backup.sh dump into an EMPTY database, then let the application check it:
# every migration present (migrate --check) and the audit hash chain intact (audit_verify).
# No secrets here: the connection comes from the standard libpq variables.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: deploy/restore.sh DUMP_FILE [audit_verify options...]

  1. checks DUMP_FILE against DUMP_FILE.sha256 (written by backup.sh)
  2. refuses unless the target database exists and has no tables (createdb it first)
  3. pg_restore --single-transaction --exit-on-error (all or nothing)
  4. $MANAGE migrate --check     non-zero if the dump is older than the code's migrations
  5. $MANAGE audit_verify [options...], e.g. --checkpoint FILE --archive FILE

Connection (libpq environment; unset ones use libpq's defaults):
  PGHOST PGPORT PGUSER PGDATABASE   the database to restore into (PGDATABASE is required)
  PGPASSWORD or ~/.pgpass           the password, if the server asks for one
  PG_EXEC   optional prefix to run psql/pg_restore elsewhere, e.g. "docker compose exec -T db"
            (the dump is streamed in on standard input)
  MANAGE    how to run manage.py against the restored database (default: python manage.py
            next to this script); its DATABASE_URL must name the restored database

With compose.yaml (restore drill into a scratch database; the live one is untouched):
  docker compose exec db createdb -U clinsum clinsum_restore
  export DATABASE_URL=postgres://clinsum:$POSTGRES_PASSWORD@db:5432/clinsum_restore
  PGUSER=clinsum PGDATABASE=clinsum_restore PG_EXEC="docker compose exec -T db" \
    MANAGE="docker compose run --rm -T -e DATABASE_URL -v /srv/clinsum/audit:/audit:ro web python manage.py" \
    deploy/restore.sh /srv/clinsum/backups/clinsum-clinsum-20261124T023000Z.dump \
    --checkpoint /audit/checkpoint-20261124T023000Z.json
  (the --checkpoint/--archive paths are read by manage.py, so they must exist where it runs)
EOF
}

if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    usage >&2
    exit 2
fi
dump=$1
shift
[[ -f $dump ]] || { echo "restore.sh: no such file: $dump" >&2; exit 2; }
[[ -f $dump.sha256 ]] || { echo "restore.sh: no checksum file $dump.sha256" >&2; exit 2; }
: "${PGDATABASE:?restore.sh: set PGDATABASE to the (empty) database to restore into}"

conn=(--dbname "$PGDATABASE")
[[ -n ${PGHOST:-} ]] && conn+=(--host "$PGHOST")
[[ -n ${PGPORT:-} ]] && conn+=(--port "$PGPORT")
[[ -n ${PGUSER:-} ]] && conn+=(--username "$PGUSER")
read -ra exec_prefix <<< "${PG_EXEC:-}"
read -ra manage <<< "${MANAGE:-python $(dirname "$0")/../manage.py}"

echo "1/5 checksum"
(cd "$(dirname "$dump")" && sha256sum --check --quiet "$(basename "$dump").sha256")

echo "2/5 target database $PGDATABASE must be empty"
tables=$("${exec_prefix[@]}" psql --no-psqlrc --no-password --tuples-only --no-align -v ON_ERROR_STOP=1 "${conn[@]}" \
    --command "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg_toast%'")
if [[ $tables != 0 ]]; then
    echo "restore.sh: $PGDATABASE already has $tables tables; restore only into an empty database" >&2
    exit 1
fi

echo "3/5 pg_restore"
"${exec_prefix[@]}" pg_restore --no-password --single-transaction --exit-on-error --no-owner "${conn[@]}" < "$dump"

echo "4/5 migrate --check"
"${manage[@]}" migrate --check

echo "5/5 audit_verify"
"${manage[@]}" audit_verify "$@"
echo "restore of $(basename "$dump") into $PGDATABASE verified"

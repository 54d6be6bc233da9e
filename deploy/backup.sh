#!/usr/bin/env bash
# Back up the ClinSum database: one pg_dump custom-format file, named by date, plus its SHA-256.
# No secrets here: the connection comes from the standard libpq variables.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: deploy/backup.sh OUT_DIR

Writes OUT_DIR/clinsum-<database>-<UTC time>.dump (pg_dump -Fc) and, next to it,
<file>.sha256 (sha256sum format; check with `sha256sum -c`). Prints the dump's path.

Connection (libpq environment; unset ones use libpq's defaults):
  PGHOST PGPORT PGUSER PGDATABASE   PGDATABASE defaults to clinsum
  PGPASSWORD or ~/.pgpass           the password, if the server asks for one
  PG_EXEC                           optional prefix to run pg_dump elsewhere, for example
                                    PG_EXEC="docker compose exec -T db" (the dump is streamed back)

With compose.yaml, from the directory holding it:
  PGUSER=clinsum PG_EXEC="docker compose exec -T db" deploy/backup.sh /srv/clinsum/backups
EOF
}

if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
    usage >&2
    exit 2
fi
out_dir=$1
[[ -d $out_dir ]] || { echo "backup.sh: $out_dir is not a directory" >&2; exit 2; }

database=${PGDATABASE:-clinsum}
conn=(--dbname "$database")
[[ -n ${PGHOST:-} ]] && conn+=(--host "$PGHOST")
[[ -n ${PGPORT:-} ]] && conn+=(--port "$PGPORT")
[[ -n ${PGUSER:-} ]] && conn+=(--username "$PGUSER")
read -ra exec_prefix <<< "${PG_EXEC:-}"

name="clinsum-${database}-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$out_dir/.$name.partial"
trap 'rm -f "$partial"' EXIT
umask 077  # the dump holds patient data
# --no-password: fail at once instead of waiting for a prompt nobody sees (cron).
"${exec_prefix[@]}" pg_dump --format=custom --no-password "${conn[@]}" > "$partial"
[[ -s $partial ]] || { echo "backup.sh: pg_dump wrote nothing" >&2; exit 1; }
mv "$partial" "$out_dir/$name"
(cd "$out_dir" && sha256sum "$name" > "$name.sha256")
echo "$out_dir/$name"

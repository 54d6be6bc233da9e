#!/usr/bin/env bash
# Restore a backup.sh dump into an EMPTY database, then let the application check it:
# every migration present (migrate --check) and the audit hash chain intact (audit_verify).
# An encrypted dump (.dump.gpg) needs the backup private key (--identity); it is decrypted
# into the pipe to pg_restore, never onto disk.
# No secrets here: the connection comes from the standard libpq variables.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: deploy/restore.sh [--identity KEY_FILE] DUMP_FILE [audit_verify options...]

  1. checks DUMP_FILE against DUMP_FILE.sha256 (written by backup.sh); for an encrypted
     DUMP_FILE (.gpg), checks that KEY_FILE holds a private key it was encrypted to
  2. refuses unless the target database exists and has no tables (createdb it first)
  3. pg_restore --single-transaction --exit-on-error (all or nothing)
  4. $MANAGE migrate --check     non-zero if the dump is older than the code's migrations
  5. $MANAGE audit_verify --no-checkpoint-dir [options...], e.g. --checkpoint FILE --archive FILE

  --identity KEY_FILE   the backup private key (`gpg --export-secret-keys --armor`), kept off
                        the host and brought in for the restore only; gpg asks for its
                        passphrase on the terminal

Connection (libpq environment; unset ones use libpq's defaults):
  PGHOST PGPORT PGUSER PGDATABASE   the database to restore into (PGDATABASE is required)
  PGPASSWORD or ~/.pgpass           the password, if the server asks for one
  PG_EXEC   optional prefix to run psql/pg_restore elsewhere, e.g. "docker compose exec -T db"
            (the dump is decrypted on this side and streamed in on standard input)
  MANAGE    how to run manage.py against the restored database (default: python manage.py
            next to this script); its DATABASE_URL must name the restored database

With compose.yaml (restore drill into a scratch database; the live one is untouched):
  docker compose exec db createdb -U clinsum clinsum_restore
  export DATABASE_URL=postgres://clinsum:$POSTGRES_PASSWORD@db:5432/clinsum_restore
  PGUSER=clinsum_owner PGDATABASE=clinsum_restore PG_EXEC="docker compose exec -T db" \
    MANAGE="docker compose run --rm -T -e DATABASE_URL -v /srv/clinsum/audit:/audit:ro web python manage.py" \
    deploy/restore.sh --identity /media/backup-key/clinsum-backup-2027.secret.asc \
    /srv/clinsum/backups/clinsum-clinsum-20261124T023000Z.dump.gpg \
    --checkpoint /audit/checkpoint-20261124T023000Z.json
  (the --checkpoint/--archive paths are read by manage.py, so they must exist where it runs)
EOF
}

identity=""
if [[ ${1:-} == --identity ]]; then
    [[ $# -ge 2 ]] || { usage >&2; exit 2; }
    identity=$2
    shift 2
fi
if [[ $# -lt 1 || $1 == -h || $1 == --help ]]; then
    usage >&2
    exit 2
fi
dump=$1
shift
[[ -f $dump ]] || { echo "restore.sh: no such file: $dump" >&2; exit 2; }
[[ -f $dump.sha256 ]] || { echo "restore.sh: no checksum file $dump.sha256" >&2; exit 2; }
: "${PGDATABASE:?restore.sh: set PGDATABASE to the (empty) database to restore into}"
encrypted=false
if [[ $dump == *.gpg ]]; then
    encrypted=true
    if [[ -z $identity ]]; then
        echo "restore.sh: $dump is encrypted: give the backup private key with --identity KEY_FILE" \
             "(it is kept off this host)" >&2
        exit 2
    fi
    [[ -f $identity && -r $identity ]] || { echo "restore.sh: no such key file: $identity" >&2; exit 2; }
    command -v gpg >/dev/null || { echo "restore.sh: gpg (GnuPG) is not installed: apt-get install gnupg" >&2; exit 2; }
elif [[ -n $identity ]]; then
    echo "restore.sh: $dump is not encrypted (no .gpg); --identity is only for encrypted backups" >&2
    exit 2
fi

conn=(--dbname "$PGDATABASE")
[[ -n ${PGHOST:-} ]] && conn+=(--host "$PGHOST")
[[ -n ${PGPORT:-} ]] && conn+=(--port "$PGPORT")
[[ -n ${PGUSER:-} ]] && conn+=(--username "$PGUSER")
read -ra exec_prefix <<< "${PG_EXEC:-}"
read -ra manage <<< "${MANAGE:-python $(dirname "$0")/../manage.py}"

echo "1/5 checksum"
(cd "$(dirname "$dump")" && sha256sum --check --quiet "$(basename "$dump").sha256")
if $encrypted; then
    # A throwaway GnuPG home for the private key, in memory where the host has /dev/shm;
    # removed, with its gpg-agent, when the script ends.
    tmp_base=${TMPDIR:-/tmp}
    [[ -d /dev/shm && -w /dev/shm ]] && tmp_base=/dev/shm
    gnupg_home=$(mktemp -d "$tmp_base/clinsum-gnupg.XXXXXX")
    trap 'gpgconf --homedir "$gnupg_home" --kill gpg-agent 2>/dev/null; rm -rf "$gnupg_home"' EXIT
    gpg=(gpg --homedir "$gnupg_home" --quiet)
    if ! "${gpg[@]}" --batch --import "$identity" 2>/dev/null; then
        echo "restore.sh: $identity is not an OpenPGP private key file" >&2
        exit 2
    fi
    held=$("${gpg[@]}" --batch --with-colons --list-secret-keys | awk -F: '$1 == "sec" || $1 == "ssb" {print $5}')
    wanted=$("${gpg[@]}" --batch --status-fd 1 --list-only --decrypt "$dump" 2>/dev/null \
             | awk '$2 == "ENC_TO" {print $3}')
    if [[ -z $held ]] || ! grep -qxF -f <(echo "$held") <<< "$wanted"; then
        echo "restore.sh: the key in $identity cannot decrypt $dump: it was encrypted to key id(s)" \
             "$(echo $wanted), and $identity holds private key id(s) $(echo $held)" >&2
        exit 2
    fi
    # gpg asks for the key's passphrase itself, on this terminal (no pinentry program).
    if [[ -t 0 ]]; then GPG_TTY=$(tty); export GPG_TTY; fi
fi

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
restore=("${exec_prefix[@]}" pg_restore --no-password --single-transaction --exit-on-error --no-owner --no-comments "${conn[@]}")
if $encrypted; then
    "${gpg[@]}" --pinentry-mode loopback --decrypt "$dump" | "${restore[@]}"
else
    "${restore[@]}" < "$dump"
fi

echo "4/5 migrate --check"
"${manage[@]}" migrate --check

echo "5/5 audit_verify"
# Only the checkpoints given: the scheduled ones in AUDIT_CHECKPOINT_DIR are newer than any dump.
"${manage[@]}" audit_verify --no-checkpoint-dir "$@"
echo "restore of $(basename "$dump") into $PGDATABASE verified"

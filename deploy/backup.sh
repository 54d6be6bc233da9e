#!/usr/bin/env bash
# Back up the ClinSum database: one pg_dump custom-format file, named by date, encrypted with
# GnuPG (AES-256) to the backup public key(s), plus the SHA-256 of the encrypted file.
# The plain dump only ever passes through a pipe; it is never written to disk.
# No secrets here: the connection comes from the standard libpq variables, and only public
# keys are needed (the private key stays off the host; restore.sh takes it).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: deploy/backup.sh [--unencrypted] OUT_DIR

Writes OUT_DIR/clinsum-<database>-<UTC time>.dump.gpg (pg_dump -Fc, encrypted with GnuPG,
AES-256, to every key in CLINSUM_BACKUP_RECIPIENTS) and, next to it, <file>.sha256 of the
encrypted file (sha256sum format; check with `sha256sum -c`). Prints the file's path.

  CLINSUM_BACKUP_RECIPIENTS  comma-separated OpenPGP public key files, one key per file
                             (`gpg --export --armor KEY > FILE`); any one private key restores
  CLINSUM_PRODUCTION         true in production: an unencrypted backup is then refused
  --unencrypted              outside production only: write a plain OUT_DIR/...dump instead
Both variables are read from the environment, else from the .env next to compose.yaml
(CLINSUM_ENV_FILE names another file).

Connection (libpq environment; unset ones use libpq's defaults):
  PGHOST PGPORT PGUSER PGDATABASE   PGDATABASE defaults to clinsum
  PGPASSWORD or ~/.pgpass           the password, if the server asks for one
  PG_EXEC                           optional prefix to run pg_dump elsewhere, for example
                                    PG_EXEC="docker compose exec -T db" (the dump is streamed back
                                    and encrypted on this side)

With compose.yaml, from the directory holding it:
  PGUSER=clinsum_owner PG_EXEC="docker compose exec -T db" deploy/backup.sh /srv/clinsum/backups
EOF
}

unencrypted=false
if [[ ${1:-} == --unencrypted ]]; then
    unencrypted=true
    shift
fi
if [[ $# -ne 1 || $1 == -h || $1 == --help ]]; then
    usage >&2
    exit 2
fi
out_dir=$1
[[ -d $out_dir ]] || { echo "backup.sh: $out_dir is not a directory" >&2; exit 2; }

# The .env that compose and Django read, so one file says what production is and who the
# backup keys are; the environment wins, as with django-environ.
env_file=${CLINSUM_ENV_FILE:-$(dirname "$0")/../.env}
env_value() {
    [[ -f $env_file ]] || return 0
    sed -n "s/^[[:space:]]*\(export[[:space:]]\+\)\?$1=//p" "$env_file" | tail -n 1 \
        | sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}
production=${CLINSUM_PRODUCTION:-$(env_value CLINSUM_PRODUCTION)}
recipients=${CLINSUM_BACKUP_RECIPIENTS:-$(env_value CLINSUM_BACKUP_RECIPIENTS)}
case ${production,,} in true | on | ok | y | yes | 1) production=true ;; *) production=false ;; esac

recipient_args=()
IFS=, read -ra recipient_files <<< "$recipients"
for key in "${recipient_files[@]}"; do
    read -r key <<< "$key"  # trims the blanks around it
    [[ -z $key ]] && continue
    [[ -f $key && -r $key ]] || { echo "backup.sh: backup public key file $key is missing or unreadable" >&2; exit 2; }
    recipient_args+=(--recipient-file "$key")
done
if $unencrypted; then
    if $production; then
        echo "backup.sh: refusing --unencrypted in production (CLINSUM_PRODUCTION=true): backups hold patient" \
             "data and must be encrypted to CLINSUM_BACKUP_RECIPIENTS" >&2
        exit 2
    fi
    recipient_args=()
elif [[ ${#recipient_args[@]} -eq 0 ]]; then
    if $production; then
        echo "backup.sh: no backup public key: set CLINSUM_BACKUP_RECIPIENTS (production never writes an" \
             "unencrypted backup)" >&2
    else
        echo "backup.sh: no backup public key: set CLINSUM_BACKUP_RECIPIENTS, or pass --unencrypted" \
             "for a plain dump (refused in production)" >&2
    fi
    exit 2
fi
if [[ ${#recipient_args[@]} -gt 0 ]] && ! command -v gpg >/dev/null; then
    echo "backup.sh: gpg (GnuPG) is not installed: apt-get install gnupg" >&2
    exit 2
fi

database=${PGDATABASE:-clinsum}
conn=(--dbname "$database")
[[ -n ${PGHOST:-} ]] && conn+=(--host "$PGHOST")
[[ -n ${PGPORT:-} ]] && conn+=(--port "$PGPORT")
[[ -n ${PGUSER:-} ]] && conn+=(--username "$PGUSER")
read -ra exec_prefix <<< "${PG_EXEC:-}"

name="clinsum-${database}-$(date -u +%Y%m%dT%H%M%SZ).dump"
[[ ${#recipient_args[@]} -gt 0 ]] && name+=.gpg
partial="$out_dir/.$name.partial"
gnupg_home=""
cleanup() {
    rm -f "$partial"
    [[ -z $gnupg_home ]] || rm -rf "$gnupg_home"
}
trap cleanup EXIT
umask 077  # the dump holds patient data
# --no-password: fail at once instead of waiting for a prompt nobody sees (cron).
if [[ ${#recipient_args[@]} -gt 0 ]]; then
    # A throwaway GnuPG home: the keys come from the files given, not from anyone's keyring.
    gnupg_home=$(mktemp -d "${TMPDIR:-/tmp}/clinsum-gnupg.XXXXXX")
    # pg_dump -Fc is already compressed; compressing again would only cost time.
    "${exec_prefix[@]}" pg_dump --format=custom --no-password "${conn[@]}" \
        | gpg --homedir "$gnupg_home" --batch --no-tty --quiet --cipher-algo AES256 --compress-algo none \
              "${recipient_args[@]}" --encrypt > "$partial"
else
    "${exec_prefix[@]}" pg_dump --format=custom --no-password "${conn[@]}" > "$partial"
fi
[[ -s $partial ]] || { echo "backup.sh: pg_dump wrote nothing" >&2; exit 1; }
mv "$partial" "$out_dir/$name"
(cd "$out_dir" && sha256sum "$name" > "$name.sha256")
echo "$out_dir/$name"

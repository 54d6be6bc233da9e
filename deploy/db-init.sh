#!/usr/bin/env bash
# PostgreSQL first start (compose mounts this into /docker-entrypoint-initdb.d/): the two roles
# of clinsum/db and the database, owned by the owner role, with pgvector. Runs once, as the
# image's bootstrap superuser, which ClinSum itself never uses.
#   clinsum_owner  owns the schema; runs `manage.py migrate` (the migrate service) and operators' tasks
#   clinsum_app    web, workers, beat: read/write clinical tables, SELECT+INSERT only on the audit trail
set -euo pipefail
: "${CLINSUM_DB_OWNER_PASSWORD:?set CLINSUM_DB_OWNER_PASSWORD in .env}"
: "${CLINSUM_DB_APP_PASSWORD:?set CLINSUM_DB_APP_PASSWORD in .env}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_pw="$CLINSUM_DB_OWNER_PASSWORD" -v app_pw="$CLINSUM_DB_APP_PASSWORD" <<'SQL'
CREATE ROLE clinsum_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE clinsum_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_pw';
CREATE DATABASE clinsum OWNER clinsum_owner;
\connect clinsum
CREATE EXTENSION IF NOT EXISTS vector;
REVOKE ALL ON DATABASE clinsum FROM PUBLIC;
GRANT CONNECT ON DATABASE clinsum TO clinsum_app;
SQL

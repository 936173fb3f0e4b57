#!/bin/bash
# restore-check.sh: prove that a backup made by backup.sh restores. Verifies its checksums,
# restores the database dump into a scratch database, runs the release's
# `flask --app portal db current` against it, counts the rows of the main tables next to
# the live database, checks that every photo the database refers to is in uploads.tar, and
# drops the scratch database again (also on failure). Run it as root, monthly and after
# every upgrade (docs/deploy.md, step 9). It never writes to the live database.
#
# usage: restore-check.sh [BACKUP]     BACKUP: a directory made by backup.sh
#                                      (default: the newest one in BACKUP_DIR)
#
# Settings (environment, with defaults):
#   BACKUP_DIR          /var/backups/dtsen-portal
#   RESTORE_DB          dtsen_restore_check      the scratch database (created, then dropped)
#   RESTORE_ADMIN_URL   (unset)                  a libpq URL of a role that may create and
#                       drop databases, e.g. postgresql://dtsen_restore:PW@10.0.0.20/postgres;
#                       unset: the local postgres superuser, through runuser (PostgreSQL on
#                       this host)
#   DTSEN_ENV_FILE      /etc/dtsen-portal/env    DATABASE_URL (the live database) is read
#                                                from it when not set in the environment
#   DTSEN_VENV          /opt/dtsen-portal/venv   the release whose `flask db current` runs
set -euo pipefail

usage() {
    echo "usage: $(basename "$0") [BACKUP]   (default: the newest backup in BACKUP_DIR)"
}
if [[ $# -gt 1 || ${1:-} == -h || ${1:-} == --help ]]; then
    [[ $# -eq 1 ]] && { usage; exit 0; }
    usage >&2
    exit 2
fi

die() { echo "restore-check: $*" >&2; exit 1; }

BACKUP_DIR=${BACKUP_DIR:-/var/backups/dtsen-portal}
RESTORE_DB=${RESTORE_DB:-dtsen_restore_check}
RESTORE_ADMIN_URL=${RESTORE_ADMIN_URL:-}
ENV_FILE=${DTSEN_ENV_FILE:-/etc/dtsen-portal/env}
DTSEN_VENV=${DTSEN_VENV:-/opt/dtsen-portal/venv}
TABLES=(snapshots households persons appeals appeal_photos audit_events staff_users)

[[ $RESTORE_DB =~ ^[a-z_][a-z0-9_]*$ ]] || die "RESTORE_DB must be a plain lower-case name"

setting() {
    [[ -r $ENV_FILE ]] || return 0
    sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1 | sed 's/^"\(.*\)"$/\1/'
}

# libpq's PG* variables from a URL (SQLAlchemy's or libpq's), DBNAME replacing its database
# when given; with "sqlalchemy" as third argument, the URL for the app instead.
pg_env() {
    PG_URL=$1 PG_DBNAME=${2:-} PG_FORM=${3:-env} python3 - <<'PY'
import os, shlex, sys
from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

url = urlsplit(os.environ["PG_URL"])
if url.scheme.split("+")[0] not in ("postgresql", "postgres"):
    sys.exit("restore-check: not a PostgreSQL URL")
dbname = os.environ["PG_DBNAME"]
if os.environ["PG_FORM"] == "sqlalchemy":
    path = "/" + dbname if dbname else url.path
    print(urlunsplit(("postgresql+psycopg", url.netloc, path, url.query, "")))
    sys.exit()
env = {}
if url.hostname:
    env["PGHOST"] = url.hostname
if url.port:
    env["PGPORT"] = str(url.port)
if url.username:
    env["PGUSER"] = unquote(url.username)
if url.password:
    env["PGPASSWORD"] = unquote(url.password)
if url.path.strip("/"):
    env["PGDATABASE"] = unquote(url.path.strip("/"))
names = {"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
         "dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT"}
for key, value in parse_qsl(url.query):
    if key in names:
        env[names[key]] = value
if dbname:
    env["PGDATABASE"] = dbname
for key, value in env.items():
    print(f"export {key}={shlex.quote(value)}")
PY
}

# A command as the admin role: on DATABASE (default postgres), in a subshell of its own.
as_admin() {
    local database=$1
    shift
    if [[ -n $RESTORE_ADMIN_URL ]]; then
        (eval "$(pg_env "$RESTORE_ADMIN_URL" "$database")" && "$@")
    else
        [[ $EUID -eq 0 ]] || die "run as root, or set RESTORE_ADMIN_URL"
        (cd / && runuser -u postgres -- env PGDATABASE="$database" "$@")
    fi
}
admin_sql() { as_admin "$1" psql -XAtq -v ON_ERROR_STOP=1 -c "$2"; }

# --- the backup ---------------------------------------------------------------------------
if [[ $# -eq 1 ]]; then
    backup=$1
else
    backup=$(find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '20[0-9][0-9]*T*Z' \
        | sort | tail -n 1)
    [[ -n $backup ]] || die "no backup in $BACKUP_DIR"
fi
[[ -f $backup/database.dump && -f $backup/uploads.tar ]] || die "$backup is not a backup"
echo "backup:    $backup"
(cd "$backup" && sha256sum --quiet --check SHA256SUMS) || die "checksums do not match"
echo "checksums: ok"

# --- restore into the scratch database ----------------------------------------------------
live_url=${DATABASE_URL:-$(setting DATABASE_URL)}
if [[ -n $live_url ]]; then
    live_db=$(eval "$(pg_env "$live_url")" && echo "${PGDATABASE:-}")
    [[ $live_db != "$RESTORE_DB" ]] || die "RESTORE_DB is the live database's name"
fi

drop_scratch() {
    as_admin postgres psql -XAtq -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS \"$RESTORE_DB\" WITH (FORCE)" \
        || echo "restore-check: could not drop $RESTORE_DB: drop it by hand" >&2
}
drop_scratch
admin_sql postgres "CREATE DATABASE \"$RESTORE_DB\""
trap drop_scratch EXIT

started=$(date +%s)
as_admin "$RESTORE_DB" pg_restore --no-owner --no-privileges --exit-on-error \
    --dbname="$RESTORE_DB" < "$backup/database.dump"
echo "restored:  into $RESTORE_DB in $(( $(date +%s) - started )) s"

# --- the release reads it -----------------------------------------------------------------
# Throwaway keys: `db current` reads no personal data, and the real keys stay where they are.
if [[ -n $RESTORE_ADMIN_URL ]]; then
    scratch_url=$(pg_env "$RESTORE_ADMIN_URL" "$RESTORE_DB" sqlalchemy)
    run_flask=()
else
    scratch_url="postgresql+psycopg://postgres@/$RESTORE_DB?host=/var/run/postgresql"
    run_flask=(runuser -u postgres --)
fi
throwaway() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
current=$(
    cd /
    export PORTAL_ENV=production DATABASE_URL=$scratch_url INSTANCE_PATH=/tmp
    SECRET_KEY=$(throwaway) NIK_HMAC_KEY=$(throwaway)
    export SECRET_KEY NIK_HMAC_KEY
    unset REDIS_URL
    "${run_flask[@]}" "$DTSEN_VENV/bin/flask" --app portal db current 2>&1
) || die "flask db current failed: $current"
echo "flask --app portal db current: ${current:-"(empty: no schema revision!)"}"
[[ -n $current ]] || die "the restored database has no schema revision"

# --- row counts, backup next to live ------------------------------------------------------
count_sql="SELECT $(printf "(SELECT count(*) FROM %s)||' '||" "${TABLES[@]}")''"
read -r -a restored <<< "$(admin_sql "$RESTORE_DB" "$count_sql")"
live=()
if [[ -n $live_url ]]; then
    read -r -a live <<< "$(eval "$(pg_env "$live_url")" && psql -XAtq -c "$count_sql")" || live=()
fi
printf '%-14s %12s %12s %12s\n' table backup live "since backup"
for i in "${!TABLES[@]}"; do
    if [[ ${#live[@]} -eq ${#TABLES[@]} ]]; then
        printf '%-14s %12s %12s %+12d\n' "${TABLES[$i]}" "${restored[$i]}" "${live[$i]}" \
            $(( live[i] - restored[i] ))
    else
        printf '%-14s %12s %12s %12s\n' "${TABLES[$i]}" "${restored[$i]}" "?" ""
    fi
done

# --- every photo the database refers to is in the tar -------------------------------------
missing=$(comm -23 \
    <(admin_sql "$RESTORE_DB" "SELECT storage_key FROM appeal_photos ORDER BY 1" | sort) \
    <(tar --list --file="$backup/uploads.tar" | sed -n 's|^\./||p' | sort) | wc -l)
in_tar=$(tar --list --file="$backup/uploads.tar" | grep -c '\.jpg$' || true)
echo "photos:    $in_tar in uploads.tar, $missing referenced by the database but missing"
[[ $missing -eq 0 ]] || die "$missing photo(s) missing from uploads.tar"

trap - EXIT
drop_scratch
echo "restore-check: OK (scratch database $RESTORE_DB dropped)"

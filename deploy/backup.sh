#!/bin/bash
# backup.sh: a dated backup of dtsen-portal: the database (pg_dump, custom format) and the
# evidence photos (a tar of UPLOAD_DIR), kept BACKUP_KEEP_DAYS days. Installed as
# /opt/dtsen-portal/bin/backup.sh, run nightly by dtsen-portal-backup.timer as the dtsen
# user (docs/deploy.md, step 9). Check a backup with restore-check.sh.
#
# The backup holds personal data (names, household records, photos): keep it as safe as the
# database. It holds NO keys: without NIK_HMAC_KEY (in /etc/dtsen-portal/env) the restored
# data cannot be looked up. Keep a copy of the environment file's keys separately and safely.
#
# Settings (environment, with defaults):
#   DTSEN_ENV_FILE     /etc/dtsen-portal/env      DATABASE_URL and UPLOAD_DIR are read from it
#                                                 when they are not set in the environment
#   DATABASE_URL       (from the env file)        the portal's database (postgresql+psycopg://...)
#   UPLOAD_DIR         (from the env file, else INSTANCE_PATH/uploads, else
#                       /var/lib/dtsen-portal/uploads)
#   BACKUP_DIR         /var/backups/dtsen-portal  where dated backups are written
#   BACKUP_KEEP_DAYS   14                         backups older than this are deleted
#   DTSEN_VENV         /opt/dtsen-portal/venv     only to record the portal's version
set -euo pipefail

usage() {
    echo "usage: $(basename "$0")   (no arguments; settings from the environment, see the header)"
}
if [[ $# -gt 0 ]]; then
    [[ $1 == -h || $1 == --help ]] && { usage; exit 0; }
    usage >&2
    exit 2
fi

die() { echo "backup: $*" >&2; exit 1; }

ENV_FILE=${DTSEN_ENV_FILE:-/etc/dtsen-portal/env}
BACKUP_DIR=${BACKUP_DIR:-/var/backups/dtsen-portal}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}
DTSEN_VENV=${DTSEN_VENV:-/opt/dtsen-portal/venv}
[[ $BACKUP_KEEP_DAYS =~ ^[0-9]+$ ]] || die "BACKUP_KEEP_DAYS must be a whole number of days"

# One setting from the environment file, without loading the others (the keys stay out of
# this process). Accepts NAME=value and NAME="value"; the last line wins, as in the shell.
setting() {
    [[ -r $ENV_FILE ]] || return 0
    sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1 | sed 's/^"\(.*\)"$/\1/'
}

DATABASE_URL=${DATABASE_URL:-$(setting DATABASE_URL)}
[[ -n $DATABASE_URL ]] || die "DATABASE_URL is not set and not found in $ENV_FILE"
INSTANCE_PATH=${INSTANCE_PATH:-$(setting INSTANCE_PATH)}
UPLOAD_DIR=${UPLOAD_DIR:-$(setting UPLOAD_DIR)}
UPLOAD_DIR=${UPLOAD_DIR:-${INSTANCE_PATH:-/var/lib/dtsen-portal}/uploads}
[[ -d $UPLOAD_DIR ]] || die "UPLOAD_DIR $UPLOAD_DIR is not a directory (shared storage not mounted?)"

# libpq's PG* variables from the SQLAlchemy URL: the password never appears in argv (ps).
pg_env() {
    PG_URL=$1 python3 - <<'PY'
import os, shlex, sys
from urllib.parse import parse_qsl, unquote, urlsplit

url = urlsplit(os.environ["PG_URL"])
if url.scheme.split("+")[0] not in ("postgresql", "postgres"):
    sys.exit("backup: DATABASE_URL is not a PostgreSQL URL")
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
for key, value in env.items():
    print(f"export {key}={shlex.quote(value)}")
PY
}
eval "$(pg_env "$DATABASE_URL")"

umask 077
started=$(date +%s)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$BACKUP_DIR"
work="$BACKUP_DIR/.partial-$stamp"
mkdir "$work"
trap 'rm -rf "$work"' EXIT

# 1. The database first, then the photos: a photo is written before its row is committed
#    and deleted after its row is, so every photo the dump refers to is in the tar.
pg_dump --format=custom --file="$work/database.dump"
revision=$(psql -XAtqc 'SELECT version_num FROM alembic_version')

# 2. The photos (JPEG already: no compression). A draft purged meanwhile is no error.
status=0
tar --create --file="$work/uploads.tar" --directory="$UPLOAD_DIR" \
    --warning=no-file-removed --warning=no-file-changed . || status=$?
[[ $status -le 1 ]] || die "tar of $UPLOAD_DIR failed (exit $status)"
photos=$(tar --list --file="$work/uploads.tar" | grep -c '\.jpg$' || true)

# 3. What this is, and checksums to verify it after copying it elsewhere.
version=$("$DTSEN_VENV/bin/python" -c \
    'import importlib.metadata as m; print(m.version("dtsen-portal"))' 2>/dev/null || echo unknown)
cat > "$work/MANIFEST" <<EOF
dtsen-portal backup $stamp
host:            $(hostname -f 2>/dev/null || hostname)
database:        ${PGDATABASE:-?} on ${PGHOST:-local socket}, schema revision $revision
portal version:  $version
uploads:         $UPLOAD_DIR ($photos photos)
made with:       $(pg_dump --version)

No keys are in this backup. Without the NIK_HMAC_KEY of the environment file the
restored data cannot be looked up: keep the keys separately and safely.
Restore: docs/deploy.md, step 9 (pg_restore; tar -x into UPLOAD_DIR as the dtsen user).
EOF
(cd "$work" && sha256sum database.dump uploads.tar MANIFEST > SHA256SUMS)

mv "$work" "$BACKUP_DIR/$stamp"
trap - EXIT

# 4. Keep BACKUP_KEEP_DAYS days (only our own dated directories; never the one just made).
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '20[0-9][0-9]*T*Z' \
    -mtime +"$BACKUP_KEEP_DAYS" ! -name "$stamp" -exec rm -rf {} +
find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name '.partial-*' -mtime +1 \
    -exec rm -rf {} +

size() { du -h "$1" | cut -f1; }
echo "backup $BACKUP_DIR/$stamp: database.dump $(size "$BACKUP_DIR/$stamp/database.dump")" \
    "(schema $revision), uploads.tar $(size "$BACKUP_DIR/$stamp/uploads.tar") ($photos photos)," \
    "$(( $(date +%s) - started )) s"

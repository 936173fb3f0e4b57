#!/bin/bash
# nginx-site.sh: render the portal's nginx site from the release's template with the values
# of NGINX_SITE_ENV (envsubst, as the template's header says), test it and reload nginx;
# or do the same with one app server marked "down", to restart it without a single failed
# request (docs/deploy.md, steps 7, 8 and 12). Run as root on the nginx host.
#
# usage: nginx-site.sh render            every app server in the rotation
#        nginx-site.sh drain ADDRESS     ADDRESS (PORTAL_APP_1 or PORTAL_APP_2, e.g.
#                                        127.0.0.1:8001) gets no new requests
#
# A failed `nginx -t` puts the previous site file back and changes nothing.
#
# Settings (environment, with defaults):
#   NGINX_SITE_ENV  /etc/dtsen-portal/nginx-site.env   the PORTAL_* values (deploy/nginx/site.env.example)
#   NGINX_TEMPLATE  /opt/dtsen-portal/nginx/dtsen-portal.conf.template
#   NGINX_SITE      /etc/nginx/sites-available/dtsen-portal.conf   (linked into NGINX_ENABLED)
#   NGINX_ENABLED   /etc/nginx/sites-enabled
#   NGINX_RELOAD    "systemctl reload nginx"           how to reload nginx
set -euo pipefail

usage() {
    echo "usage: $(basename "$0") render | drain ADDRESS"
}
die() { echo "nginx-site: $*" >&2; exit 1; }

SITE_ENV=${NGINX_SITE_ENV:-/etc/dtsen-portal/nginx-site.env}
TEMPLATE=${NGINX_TEMPLATE:-/opt/dtsen-portal/nginx/dtsen-portal.conf.template}
SITE=${NGINX_SITE:-/etc/nginx/sites-available/dtsen-portal.conf}
ENABLED=${NGINX_ENABLED:-/etc/nginx/sites-enabled}/$(basename "$SITE")
read -r -a RELOAD <<< "${NGINX_RELOAD:-systemctl reload nginx}"

case ${1:-} in
    render) [[ $# -eq 1 ]] || { usage >&2; exit 2; }; drain= ;;
    drain) [[ $# -eq 2 ]] || { usage >&2; exit 2; }; drain=$2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
esac

[[ -r $SITE_ENV ]] || die "cannot read $SITE_ENV"
[[ -r $TEMPLATE ]] || die "cannot read $TEMPLATE"
set -a
# shellcheck source=/dev/null
. "$SITE_ENV"
set +a

if [[ -n $drain ]]; then
    case $drain in
        "$PORTAL_APP_1") PORTAL_APP_1="$PORTAL_APP_1 down" ;;
        "$PORTAL_APP_2") PORTAL_APP_2="$PORTAL_APP_2 down" ;;
        *) die "$drain is neither PORTAL_APP_1 ($PORTAL_APP_1) nor PORTAL_APP_2 ($PORTAL_APP_2)" ;;
    esac
fi

# Exactly the template header's command: only the PORTAL_* names are replaced.
names=$(env | grep -o '^PORTAL_[A-Z0-9_]*' | sed 's/^/$/' | tr '\n' ' ')
new=$(mktemp "$SITE.new.XXXXXX")
trap 'rm -f "$new"' EXIT
envsubst "$names" < "$TEMPLATE" > "$new"
# shellcheck disable=SC2016  # a literal ${PORTAL_...} left over is what we look for
left=$(grep -o '\${PORTAL_[A-Z0-9_]*}' "$new" | sort -u | tr '\n' ' ' || true)
[[ -z $left ]] || die "$SITE_ENV does not set ${left}"
chmod 0644 "$new"

had_site=
if [[ -f $SITE ]]; then
    cp -p "$SITE" "$SITE.prev"
    had_site=yes
fi
mv "$new" "$SITE"
ln -sfn "$SITE" "$ENABLED"
if ! nginx -t -q; then
    if [[ -n $had_site ]]; then
        mv "$SITE.prev" "$SITE"
    else
        rm -f "$SITE" "$ENABLED"
    fi
    die "nginx -t failed: the previous site is back, nothing reloaded"
fi
"${RELOAD[@]}"
if [[ -n $drain ]]; then
    echo "nginx-site: $drain drained (no new requests); 'nginx-site.sh render' puts it back"
else
    echo "nginx-site: rendered $SITE from $TEMPLATE, nginx reloaded"
fi

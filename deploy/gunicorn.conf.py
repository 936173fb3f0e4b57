"""gunicorn settings for dtsen-portal behind nginx (deploy/nginx/dtsen-portal.conf).

Used by the systemd unit (deploy/systemd/dtsen-portal@.service) and by `make e2e`. Every
value can be overridden on the command line or through GUNICORN_CMD_ARGS.

Sync workers are right here: each request is short (a look-up is a few milliseconds of
work) and nginx buffers both the request body and the response, so a citizen on a slow
phone connection never holds a worker while bytes trickle in or out.
"""

import multiprocessing
import os

# Where nginx reaches this server. One instance per port when two run on one host
# (dtsen-portal@8001, dtsen-portal@8002); PORTAL_BIND overrides.
bind = os.environ.get("PORTAL_BIND", "127.0.0.1:8001")

# 2 x cores + 1, the usual starting point for sync workers; PORTAL_WORKERS overrides.
workers = int(os.environ.get("PORTAL_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"

# A request that takes longer than this is a bug or an attack: the worker is killed and
# restarted. Large work (exports, imports) runs outside the request path.
timeout = 30
# On SIGTERM (systemctl stop/restart) workers finish the requests they hold first.
graceful_timeout = 25
# nginx keeps connections to the upstream only as long as this.
keepalive = 5

# Recycle workers now and then, so a slow leak never grows into an outage.
max_requests = 2000
max_requests_jitter = 200

# Load the app once in the master: workers fork with it, start faster and share memory.
preload_app = True

# Only nginx on this host may set X-Forwarded-* (the app also applies PROXY_FIX_X_FOR=1).
forwarded_allow_ips = "127.0.0.1,::1"

# Logs go to the journal. The access log carries no client address (nginx's log has it, for
# abuse work, kept as briefly as docs/deploy.md says), no query strings ("%(U)s" is the path
# only) and never a NIK: the NIK travels in POST bodies, and a log filter in the app masks
# any 16-digit run and enrolment tokens that reach a log line anyway.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'

# gunicorn 27 opens a control socket in $HOME by default; two instances on one host would
# take each other's. Nothing here uses it.
control_socket_disable = True

# Never hold secrets in argv (visible in ps): the keys come from the environment file.
proc_name = "dtsen-portal"

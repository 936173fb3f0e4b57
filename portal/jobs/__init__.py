"""Background jobs: work that must not hold a web request (a large export today; sending
notifications next). A job is a row in ``jobs``; ``flask jobs work`` claims one at a time
(``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional update on SQLite), runs
the handler its kind names (``kinds.REGISTRY``) and records the outcome. A claim is a lease:
a job whose worker died is claimed again once the lease has run out, so a handler must be
safe to run again (each one checks, inside its own transaction, whether its work is done).
"""

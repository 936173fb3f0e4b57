"""Post/Redirect/Get for the public forms, and the look-up's result reference.

A public POST never answers with a page of its own (but the 429 and wait pages): it answers
``303 See Other`` to a GET. So Back never asks to "confirm form resubmission", a refresh
shows the same page again instead of sending the form again, and the language switch (a GET
with ``?lang=``) keeps the page.

- **A form that failed** (its own validation, an expired CSRF token, or a check against
  DTSEN) is kept with :func:`again`: the raw answers of the fields that *passed* (a refused
  number is never kept, so never echoed) and the messages, as msgids translated when the
  GET shows them (so they follow a language switch). The GET of the same page rebuilds the
  form from them with :func:`restore`, with status 200 (it is a GET: the error summary, not
  the status, tells the person). Kept for ``REPLAY_LIFETIME`` or until the form succeeds
  (:func:`done`).
- **A look-up** is kept with :func:`remember_lookup` (``LOOKUP_LIFETIME``), with what its
  result page shows (names masked, no HMAC: portal.lookup.service.stored): the result page
  is a GET that shows it again without asking the snapshot, and the filing journey can
  offer its numbers to the filer.

Both are rows on the server (the session is a signed, *not encrypted* cookie: no number or
name ever goes in it). The session holds only random tokens:

- ``session["bk"]``, the browser key: a secret of this browser session. Rows store only its
  SHA-256 (``owner``).
- ``session["replay"]`` / ``session["lookup"]``: the token of the latest failed form and of
  the latest look-up. Rows are found by the token's SHA-256.

"Session-bound" means: a row is shown only to a request whose session holds *both* its
token and the browser key that created it, before it expires. A token that reaches another
browser (a copied value, a log) opens nothing there. A copy of the whole cookie is the same
session: that is cookie theft, which the cookie's Secure, HttpOnly and SameSite flags and
the short lifetimes limit. Writing a new row deletes the browser's previous one; expired rows
go in a sweep at most once every ``EXPIRED_SWEEP_SECONDS`` per process (portal/expiry.py) and
by ``flask appeals purge-drafts``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import flask_babel
from flask import redirect, request, session
from flask_babel.speaklater import LazyString
from markupsafe import escape
from sqlalchemy import CTE, bindparam, delete, insert, select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from portal import access, db, expiry
from portal.core.tokens import new_token, token_hash
from portal.forms import _no_controls
from portal.replay.models import FormReplay, LookupReference

REPLAY_LIFETIME = timedelta(minutes=15)
LOOKUP_LIFETIME = timedelta(minutes=30)

# Never kept: the token (a new one comes with the page), the honeypot, a wait token.
NOT_KEPT = frozenset({"csrf_token", "website", "wait"})
# What a field may post besides its own name (portal.forms number fields: keep / pick).
FIELD_SUFFIXES = ("-keep", "-pick")
_GETTEXT = {
    name: getattr(flask_babel, name) for name in ("gettext", "ngettext", "pgettext", "npgettext")
}


# --- the browser key --------------------------------------------------------------------------


def _owner(*, create: bool) -> str | None:
    key = session.get("bk")
    if not isinstance(key, str) or len(key) < 32:
        if not create:
            return None
        key = new_token()
        session["bk"] = key
    return token_hash("browser:" + key)


def _token_of(name: str) -> str | None:
    token = session.get(name)
    return token if isinstance(token, str) and token else None


# --- messages that can be translated later ----------------------------------------------------


class Joined:
    """Messages shown as one, each translated when shown (e.g. a typo and a suggestion)."""

    def __init__(self, *parts: Any) -> None:
        self.parts = parts

    def __str__(self) -> str:
        return " ".join(str(p) for p in self.parts)

    def __html__(self) -> str:
        return str(escape(str(self)))


def dump(message: Any) -> Any:
    """A message as JSON: a lazy gettext call keeps its msgid and arguments."""
    if isinstance(message, LazyString) and getattr(message._func, "__name__", "") in _GETTEXT:
        return {
            "f": message._func.__name__,
            "a": [dump(a) for a in message._args],
            "k": {k: dump(v) for k, v in message._kwargs.items()},
        }
    if isinstance(message, Joined):
        return {"j": [dump(p) for p in message.parts]}
    if message is None or isinstance(message, bool | int | float | str):
        return message
    return {"t": str(message)}  # already translated (the locale of the POST)


def load(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "f" in value and value["f"] in _GETTEXT:
        args = [load(a) for a in value.get("a", [])]
        kwargs = {k: load(v) for k, v in (value.get("k") or {}).items()}
        return LazyString(_GETTEXT[value["f"]], *args, **kwargs)
    if "j" in value:
        return Joined(*(load(p) for p in value["j"]))
    return str(value.get("t", ""))


# --- failed forms -----------------------------------------------------------------------------


@dataclass
class Replay:
    """A failed form, as the GET of its page shows it again."""

    formdata: MultiDict[str, str]
    errors: dict[str, list[Any]]
    notes: dict[str, Any] = field(default_factory=dict)

    def apply(self, form: Any) -> Any:
        """Put the messages back on FORM (built from ``formdata``); returns FORM."""
        for name, messages in self.errors.items():
            if not name:
                form.form_errors.extend(messages)
            elif name in form:
                form[name].errors = list(messages)
        return form


def _kept_answers(form: Any, extra: Iterable[str] = ()) -> dict[str, list[str]]:
    """The raw posted values of the fields that passed: never a refused one, never a file.
    EXTRA names posted values that are not fields (a search button, its query)."""
    kept: dict[str, list[str]] = {
        key: [_no_controls(v) for v in request.form.getlist(key) if isinstance(v, str)]
        for key in extra
        if key in request.form and key not in NOT_KEPT
    }
    for f in form:
        if f.name in NOT_KEPT or f.errors or f.type in ("FileField", "MultipleFileField"):
            continue
        for key in (f.name, *(f.name + s for s in FIELD_SUFFIXES)):
            if key in request.form:
                # as the form's own filters do: no control character is kept (PostgreSQL
                # refuses NUL in text), a file sent in place of text is no answer
                kept[key] = [
                    _no_controls(v) for v in request.form.getlist(key) if isinstance(v, str)
                ]
    return kept


def _form_errors(form: Any, extra: Iterable[Any] = ()) -> dict[str, list[Any]]:
    errors: dict[str, list[Any]] = {}
    general = [*getattr(form, "form_errors", []), *extra]
    if general:
        errors[""] = [dump(m) for m in general]
    for f in form:
        if f.errors and f.name not in NOT_KEPT:
            errors[f.name] = [dump(m) for m in f.errors]
    return errors


def keep(
    form: Any, page: str, *, notes: dict[str, Any] | None = None, extra: Iterable[str] = ()
) -> None:
    """Keep the failed POST of FORM on PAGE for the GET that shows it again."""
    owner = _owner(create=True)
    now = db.utcnow()
    previous = _token_of("replay")
    expiry.sweep(FormReplay, now)
    if previous:
        db.session.execute(delete(FormReplay).where(FormReplay.token_hash == token_hash(previous)))
    token = new_token()
    db.session.add(
        FormReplay(
            token_hash=token_hash(token),
            owner=owner,
            page=page,
            answers=_kept_answers(form, extra),
            errors=_form_errors(form),
            notes=notes or {},
            expires_at=now + REPLAY_LIFETIME,
        )
    )
    db.session.commit()
    session["replay"] = token


def again(
    form: Any,
    page: str,
    url: str,
    *,
    notes: dict[str, Any] | None = None,
    extra: Iterable[str] = (),
) -> Response:
    """Keep the failed FORM and send the browser to the GET of URL (303)."""
    keep(form, page, notes=notes, extra=extra)
    return redirect(url, code=303)


def _replay_row(page: str) -> FormReplay | None:
    token = _token_of("replay")
    owner = _owner(create=False)
    if token is None or owner is None:
        return None
    row = db.session.get(FormReplay, token_hash(token))
    if row is None or row.owner != owner or row.page != page or row.expires_at < db.utcnow():
        return None
    return row


def restore(page: str) -> Replay | None:
    """The failed form of PAGE kept for this browser, if any (a GET shows it again)."""
    row = _replay_row(page)
    if row is None:
        return None
    formdata: MultiDict[str, str] = MultiDict(
        [(key, value) for key, values in (row.answers or {}).items() for value in values]
    )
    errors = {name: [load(m) for m in messages] for name, messages in (row.errors or {}).items()}
    return Replay(formdata, errors, dict(row.notes or {}))


def done(page: str) -> None:
    """The form of PAGE succeeded: its kept answers and messages are no longer needed."""
    row = _replay_row(page)
    if row is not None:
        db.session.delete(row)
        db.session.commit()
        session.pop("replay", None)


# --- the look-up ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recalled:
    """This browser's latest look-up, as its reference keeps it."""

    nik: str
    no_kk: str
    snapshot_id: int
    matched: bool
    found: dict[str, Any] | None  # the result page's data (portal.lookup.service.stored)


# The look-up's statements, built once a process (the look-up's hot path: building and
# keying a statement cost more than running it on SQLite); values bound at execution.
_REF = LookupReference.__table__
# this browser's previous reference (None: no previous one); expired ones go in a sweep
# (portal.expiry), not on every look-up
_DELETE_STALE = delete(LookupReference).where(LookupReference.token_hash == bindparam("previous"))
_INSERT = insert(LookupReference).values(
    token_hash=bindparam("token_hash"),
    owner=bindparam("owner"),
    nik=bindparam("nik"),
    no_kk=bindparam("no_kk"),
    snapshot_id=bindparam("snapshot_id"),
    matched=bindparam("matched"),
    found=bindparam("found", type_=LookupReference.found.type),
    expires_at=bindparam("expires_at", type_=LookupReference.expires_at.type),
)
# PostgreSQL: both in one statement (one round trip), the DELETE as a data-modifying WITH,
# which always runs to completion; the new row's random token is never one it deletes
_DELETE_AND_INSERT = _INSERT.add_cte(_DELETE_STALE.cte("stale"))
_RECALL = select(
    _REF.c.owner,
    _REF.c.nik,
    _REF.c.no_kk,
    _REF.c.snapshot_id,
    _REF.c.matched,
    _REF.c.found,
    _REF.c.expires_at,
).where(_REF.c.token_hash == bindparam("token_hash"))


# ... and with the access record of a hit (portal.access.insert_cte) in the same statement
_WRITES_WITH_ACCESS: dict[CTE, Any] = {}


def _with_access(access_row: CTE) -> Any:
    statement = _WRITES_WITH_ACCESS.get(access_row)
    if statement is None:
        statement = _WRITES_WITH_ACCESS[access_row] = _DELETE_AND_INSERT.add_cte(access_row)
    return statement


def remember_lookup(
    nik: str,
    no_kk: str,
    *,
    snapshot_id: int,
    matched: bool,
    found: dict[str, Any] | None = None,
    access_row: access.Entry | None = None,
) -> None:
    """Keep this browser's look-up, with FOUND, what its result page shows, and write
    ACCESS_ROW, the access record of a hit (portal.lookup.service.lookup(defer=True)).
    Commits both together, before the 303: on PostgreSQL in one statement (with the delete
    of the browser's previous reference), which in autocommit
    (portal.db.single_statement_writes) is its own transaction, with no BEGIN or COMMIT
    round trip. Other browsers' expired references go in a sweep (portal.expiry)."""
    owner = _owner(create=True)
    now = db.utcnow()
    previous = _token_of("lookup")
    # Core statements on the session's connection (the look-up's hot path: no unit of work)
    expiry.sweep(LookupReference, now)
    conn = db.session.connection()
    token = new_token()
    values = {
        "previous": token_hash(previous) if previous else None,
        "token_hash": token_hash(token),
        "owner": owner,
        "nik": nik,
        "no_kk": no_kk,
        "snapshot_id": snapshot_id,
        "matched": matched,
        "found": found,
        "expires_at": now + LOOKUP_LIFETIME,
    }
    if conn.dialect.name == "postgresql":
        if access_row is None:
            conn.execute(_DELETE_AND_INSERT, values)
        else:
            conn.execute(_with_access(access.insert_cte(access_row)), values | access_row.values)
    else:
        if access_row is not None:
            access.write(access_row)
        conn.execute(_DELETE_STALE, values)
        conn.execute(_INSERT, values)
    db.session.commit()
    session["lookup"] = token


def recall_lookup() -> Recalled | None:
    """This browser's latest look-up, while it is kept; None otherwise."""
    token = _token_of("lookup")
    owner = _owner(create=False)
    if token is None or owner is None:
        return None
    row = db.session.connection().execute(_RECALL, {"token_hash": token_hash(token)}).first()
    if row is None or row.owner != owner or row.expires_at < db.utcnow():
        return None
    return Recalled(row.nik, row.no_kk, row.snapshot_id, row.matched, row.found)


def forget_lookup() -> None:
    token = session.pop("lookup", None)
    if isinstance(token, str):
        db.session.execute(
            delete(LookupReference).where(LookupReference.token_hash == token_hash(token))
        )
        db.session.commit()


# --- housekeeping -----------------------------------------------------------------------------


def purge() -> int:
    """Delete every expired row; return how many."""
    now = db.utcnow()
    count = 0
    for model in (FormReplay, LookupReference):
        result = db.session.execute(delete(model).where(model.expires_at < now))
        count += db.rowcount(result)
    db.session.commit()
    return count

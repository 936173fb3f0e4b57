"""HTTP for the messages to filers (``/staf/pesan``): admin_dinsos (its kabupaten/kota) and
pusat (all) see the counts and the messages not sent, and send a failed one again. Thin:
the role (403 for any other), the service (scoped: another area's message is a 404), PRG."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from portal.appeals.states import TITLES, AppealStatus
from portal.auth.decorators import role_required
from portal.auth.forms import EmptyForm
from portal.auth.models import Role
from portal.review import outbox

MAX_PAGE = 100_000  # far beyond any outbox; keeps OFFSET a sane number

STATUS_NAMES = {
    "queued": _l("Queued"),
    "sending": _l("Being sent"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
}
CHANNEL_NAMES = {"sms": _l("SMS"), "email": _l("E-mail")}


def template_in_words(message: outbox.Message) -> str:
    """What the message tells the filer, in the officer's language."""
    if message.template == "status_changed" and message.status_of_case:
        try:
            title = TITLES[AppealStatus(message.status_of_case)]
        except ValueError:
            pass
        else:
            return _("Case status: %(status)s", status=title)
    return _("Message %(template)s", template=message.template)


def _page_number() -> int:
    raw = request.args.get("halaman", "1")
    # ASCII digits only ("²" and "١" are digits to str.isdigit), and short (int() of
    # thousands of digits raises)
    if not re.fullmatch(r"[0-9]{1,6}", raw) or not 1 <= int(raw) <= MAX_PAGE:
        abort(404)
    return int(raw)


@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def messages() -> str:
    number = _page_number()
    page = outbox.not_sent(g.staff, number)
    counts = outbox.counts(g.staff)
    outbox.record_view(g.staff, number)
    return render_template(
        "review/messages.html",
        counts=counts,
        page=page,
        status_names=STATUS_NAMES,
        channel_names=CHANNEL_NAMES,
        in_words=template_in_words,
        next_url=url_for("review.messages", halaman=number + 1) if page.has_next else None,
        previous_url=url_for("review.messages", halaman=number - 1) if number > 1 else None,
    )


@role_required(Role.ADMIN_DINSOS, Role.PUSAT)
def retry_message(message_id: int) -> Response:
    if not EmptyForm().validate():
        abort(400)
    try:
        outbox.retry(g.staff, message_id)
    except outbox.NotFound:
        abort(404)  # another area's message looks exactly like a missing one
    except outbox.NotFailed:
        flash(
            _("Message %(id)s is not failed: it is sent or still queued.", id=message_id),
            "info",
        )
    else:
        flash(
            _(
                "Message %(id)s is queued again: the worker sends it on its next pass.",
                id=message_id,
            ),
            "success",
        )
    return redirect(url_for("review.messages"))


def add_routes(bp: Blueprint) -> None:
    """Add the messages page to the staff blueprint (portal/review/__init__.py)."""
    bp.add_url_rule("/pesan", view_func=messages, methods=["GET"])
    bp.add_url_rule(
        "/pesan/<int(max=2147483647):message_id>/kirim-ulang",
        view_func=retry_message,
        methods=["POST"],
    )

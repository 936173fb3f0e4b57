"""What a message says: rendered from the outbox row (template, payload, locale) at sending
time, in the filer's language. Only the ticket, the new status in words and the tracking
address: never a NIK, a name or an address (the payload holds nothing else)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.appeals import tickets
from portal.appeals.states import EXPLANATIONS, TITLES, AppealStatus

TEMPLATES = ("status_changed",)
# The GSM 03.38 basic character set: an SMS of these fits 160 characters in one part
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
SMS_MAX = 160


class UnknownTemplate(ValueError):
    """A row this release cannot render (a newer release wrote it, or the row is damaged)."""


@dataclass(frozen=True)
class Content:
    subject: str
    text: str  # the e-mail's body, or the whole SMS


def tracking_url() -> str:
    return str(current_app.config["PUBLIC_BASE_URL"]).rstrip("/") + "/lacak"


def render(template: str, payload: dict[str, object], locale: str, channel: str) -> Content:
    if template not in TEMPLATES:
        raise UnknownTemplate(template)
    try:
        status = AppealStatus(str(payload.get("status")))
        ticket = tickets.display(str(payload["ticket"]))
    except (KeyError, ValueError):
        raise UnknownTemplate(f"{template}: payload") from None
    with force_locale(locale if locale in current_app.config["LANGUAGES"] else "id"):
        if channel == "sms":
            return Content("", _sms(ticket, status))
        return _email(ticket, status)


def _sms(ticket: str, status: AppealStatus) -> str:
    if status is AppealStatus.DITERIMA:
        text: str = _(
            "DTSEN: case received, ticket %(ticket)s. Follow it with the ticket and your NIK "
            "at %(url)s",
            ticket=ticket,
            url=tracking_url(),
        )
        return text
    text = _(
        "DTSEN: case %(ticket)s is now: %(status)s. Details: %(url)s",
        ticket=ticket,
        status=str(TITLES[status]),
        url=tracking_url(),
    )
    return text


def _email(ticket: str, status: AppealStatus) -> Content:
    if status is AppealStatus.DITERIMA:
        subject = _("Your case was received: ticket %(ticket)s", ticket=ticket)
        opening = _(
            "Your case was received by the DTSEN portal. Your ticket number is %(ticket)s: "
            "keep it.",
            ticket=ticket,
        )
    else:
        subject = _("Case %(ticket)s: %(status)s", ticket=ticket, status=str(TITLES[status]))
        opening = _(
            "The status of your case %(ticket)s is now: %(status)s.",
            ticket=ticket,
            status=str(TITLES[status]),
        )
    if status is AppealStatus.DITOLAK:  # the page's explanation points "below"
        explanation = _(
            "Your case was rejected. The tracking page gives the reason and how to contest "
            "the decision."
        )
    else:
        explanation = str(EXPLANATIONS[status])
    lines = [
        opening,
        "",
        explanation,
        "",
        _(
            "Follow your case at %(url)s with the ticket number and the NIK you filed it with.",
            url=tracking_url(),
        ),
        "",
        "-- ",
        _(
            "This message was sent automatically by the DTSEN portal; replies are not read. "
            "The portal and its officers never ask for money, a PIN or an OTP code."
        ),
    ]
    return Content(subject, "\n".join(lines) + "\n")


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7 for ch in text)


def reference(ident: int, created_at: datetime) -> str:
    """The message's idempotency key: the same on every attempt, different for every row
    (the creation time guards against ids reused after a restore from backup)."""
    return f"dtsen-{ident}-{int(created_at.timestamp() * 1_000_000):x}"

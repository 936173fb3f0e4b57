"""How a message leaves: one sender per channel, behind a small Protocol, so another SMS
gateway is one class and one line in GATEWAYS.

A sender raises Retry when the attempt may succeed later (server down, time-out, 5xx) and
Refused when it never will (the recipient or the message refused for good: 5xx from SMTP
for the recipient, 4xx from the gateway). Errors carry no recipient: they are stored as the
message's last_error and shown to the admin.
"""

from __future__ import annotations

import json
import re
import smtplib
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any, Protocol

ERROR_MAX = 500
ADDRESS = re.compile(r"<?[^\s<>@]+@[^\s<>]+>?")
DIGITS = re.compile(r"\+?\d{8,}")


def _clean(text: str) -> str:
    """No address or phone number in an error that is kept and shown."""
    return DIGITS.sub("<number>", ADDRESS.sub("<address>", text)).strip()[:ERROR_MAX]


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


class SendError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(_clean(message))


class Retry(SendError):
    """Not sent this time; try again later."""


class Refused(SendError):
    """Refused for good: trying again would not help."""


@dataclass(frozen=True)
class Outgoing:
    reference: str  # the same on every attempt of one message: the far side's de-duplication
    recipient: str
    subject: str
    text: str
    locale: str


class Sender(Protocol):
    channel: str
    # True: sending the same reference again is harmless (the far side drops the repeat), so
    # a message whose worker stopped while sending may be sent again (at least once). False:
    # it is not sent again without the admin (at most once). docs/notifications.md.
    idempotent: bool

    def send(self, message: Outgoing) -> None: ...


# --- e-mail ---------------------------------------------------------------------------------


class SmtpSender:
    """Plain-text e-mail over SMTP (smtplib), with STARTTLS and sign-in when configured. The
    Message-ID is derived from the reference, so a repeat is recognisable by any mail store
    that de-duplicates on it."""

    channel = "email"
    idempotent = False  # SMTP has no idempotency: a repeat would be a second e-mail

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = str(config["SMTP_HOST"])
        self.port = int(config["SMTP_PORT"])
        self.starttls = bool(config["SMTP_STARTTLS"])
        self.user = config.get("SMTP_USER")
        self.password = config.get("SMTP_PASSWORD") or ""
        self.sender = str(config["SMTP_FROM"])
        self.timeout = float(config["NOTIFY_TIMEOUT_SECONDS"])
        self.domain = parseaddr(self.sender)[1].rpartition("@")[2] or "localhost"

    def build(self, message: Outgoing) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(usegmt=True)
        mail["Message-ID"] = f"<{message.reference}@{self.domain}>"
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text)
        mail["Content-Language"] = message.locale  # after set_content, which resets Content-*
        return mail

    def send(self, message: Outgoing) -> None:
        mail = self.build(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(str(self.user), str(self.password))
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            detail = "; ".join(
                f"{c} {m.decode(errors='replace')}" for c, m in exc.recipients.values()
            )
            if codes and all(code >= 500 for code in codes):
                raise Refused(f"SMTP refused the recipient: {detail}") from None
            raise Retry(f"SMTP deferred the recipient: {detail}") from None
        except smtplib.SMTPDataError as exc:
            text = f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                raise Refused(text) from None
            raise Retry(text) from None
        except smtplib.SMTPResponseException as exc:
            # sender refused, sign-in failed, ...: the portal's settings, not the message
            raise Retry(f"SMTP {exc.smtp_code} {_text(exc.smtp_error)}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise Retry(f"SMTP {type(exc).__name__}: {exc}") from None


# --- SMS ------------------------------------------------------------------------------------


class JsonHttpGateway:
    """The documented gateway interface (docs/notifications.md): POST JSON {to, text,
    reference} with a bearer token; 2xx accepted, 408/429/5xx/no answer tried again, any
    other 4xx refused. The gateway must accept a reference it has seen before with 2xx
    without sending again: that is what makes resending after a crash safe."""

    channel = "sms"
    idempotent = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.url = str(config["SMS_GATEWAY_URL"])
        self.token = config.get("SMS_GATEWAY_TOKEN") or ""
        self.timeout = float(config["NOTIFY_TIMEOUT_SECONDS"])

    def send(self, message: Outgoing) -> None:
        body = json.dumps(
            {"to": message.recipient, "text": message.text, "reference": message.reference}
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": message.reference,
            "User-Agent": "dtsen-portal-notify",
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310 (URL from settings: https or http only)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read(4096)
        except urllib.error.HTTPError as exc:
            text = f"gateway answered HTTP {exc.code} {exc.reason}"
            if 400 <= exc.code < 500 and exc.code not in (408, 429):
                raise Refused(text) from None
            raise Retry(text) from None
        except OSError as exc:  # URLError, TimeoutError, refused connections
            reason = getattr(exc, "reason", exc)
            raise Retry(f"gateway not reached: {type(exc).__name__} {reason}") from None


# --- registry -------------------------------------------------------------------------------

# SMS gateways by the name in SMS_GATEWAY (add a class above and a line here; settings.py
# lists the names it accepts)
GATEWAYS: dict[str, Callable[[Mapping[str, Any]], Sender]] = {"http-json": JsonHttpGateway}


def configured(config: Mapping[str, Any]) -> dict[str, Sender]:
    """The senders whose server is set: a channel without one is not sent (its messages wait,
    queued, and `flask notify list` shows them)."""
    senders: dict[str, Sender] = {}
    if config.get("SMTP_HOST"):
        senders["email"] = SmtpSender(config)
    if config.get("SMS_GATEWAY_URL"):
        senders["sms"] = GATEWAYS[str(config["SMS_GATEWAY"])](config)
    return senders

"""The filer's contact as typed, normalised for sending: an Indonesian mobile number in E.164
(``+6281234567890``), an e-mail address checked for its form only (no DNS at filing: a
filer's mail server being down for a minute must not stop a case)."""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email


class InvalidContact(ValueError):
    """The number or address cannot be used; the form says so in the filer's language."""


MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_phone(raw: str) -> str:
    """``0812-3456-7890``, ``+62 812 3456 7890``, ``62812...`` -> ``+6281234567890``.
    Only Indonesian mobile numbers: the SMS gateway sends within Indonesia."""
    typed = raw.strip()
    digits = re.sub(r"[\s\-().]", "", typed)
    if digits.startswith("62") and not digits.startswith("+"):
        digits = "+" + digits  # 62812...: the country code without its plus
    elif digits.startswith("0062"):
        digits = "+" + digits[2:]
    try:
        number = phonenumbers.parse(digits, "ID")
    except phonenumbers.NumberParseException:
        raise InvalidContact(typed) from None
    if (
        number.country_code != 62
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in MOBILE
    ):
        raise InvalidContact(typed)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    """The address as it will be sent to: domain lower-cased (and IDNA), no DNS look-up."""
    typed = raw.strip()
    if len(typed) > 254:
        raise InvalidContact("too long")
    try:
        checked = validate_email(typed, check_deliverability=False)
    except EmailNotValidError:
        raise InvalidContact(typed) from None
    return str(checked.normalized)


def mask(channel: str, recipient: str) -> str:
    """For the admin's list: enough to tell two messages apart, not to contact anyone."""
    if channel == "email":
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    return recipient[:6] + "*" * max(len(recipient) - 9, 0) + recipient[-3:]

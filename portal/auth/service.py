"""Staff accounts: creation with a one-time enrolment link, enrolment (password + TOTP),
authentication, reset and deactivation. Every change is audited in its transaction."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import func, select, update

from portal import db
from portal.audit.service import record
from portal.auth.models import Role, StaffDesa, StaffUser
from portal.auth.sessions import store
from portal.core.tokens import new_token, token_hash
from portal.wilayah.models import Level, Wilayah

TOTP_ISSUER = "DTSEN Portal"


class AuthError(Exception):
    pass


class LoginFailed(AuthError):
    """Wrong e-mail, password or code, or an account that cannot log in: one answer."""


class EnrolmentInvalid(AuthError):
    """Unknown, used or expired enrolment link."""


class BadCode(AuthError):
    pass


class WeakPassword(AuthError):
    pass


class StaffDataError(AuthError, ValueError):
    """Bad input to the staff CLI (role, region, e-mail)."""


@lru_cache(maxsize=8)
def _hasher_for(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


@lru_cache(maxsize=8)
def _dummy_hash_for(time_cost: int, memory_kib: int, parallelism: int) -> str:
    """Verified against when the account does not exist, so a miss costs as much as a hit.
    Made once per set of parameters, on first use (not at import)."""
    return _hasher_for(time_cost, memory_kib, parallelism).hash(secrets.token_hex(16))


def _hash_params() -> tuple[int, int, int]:
    """The argon2id cost from the app config (PASSWORD_TIME_COST, _MEMORY_KIB, _PARALLELISM)."""
    config = current_app.config
    return (
        int(config["PASSWORD_TIME_COST"]),
        int(config["PASSWORD_MEMORY_KIB"]),
        int(config["PASSWORD_PARALLELISM"]),
    )


def _hasher() -> PasswordHasher:
    """The password hasher of the current app's configured cost (a new hash uses it; a stored
    hash of another cost still verifies, and is rehashed at the next sign-in)."""
    return _hasher_for(*_hash_params())


def _region_level(code: str) -> int | None:
    return db.session.scalar(select(Wilayah.level).where(Wilayah.code == code))


@dataclass(frozen=True)
class Created:
    user: StaffUser
    enrol_token: str


def _new_enrolment(user: StaffUser) -> str:
    token = new_token()
    user.enrol_token_hash = token_hash(token)
    user.enrol_browser_hash = None  # the next browser to open the new link binds it
    user.enrol_reopened_at = None
    user.enrol_expires_at = db.utcnow() + timedelta(
        hours=int(current_app.config["STAFF_ENROL_HOURS"])
    )
    return token


def create_staff(
    email: str, name: str, role: str, regions: list[str], *, by: StaffUser | None = None
) -> Created:
    """Create an account that must enrol (password + TOTP) through a one-time link.

    Scope by role: operator_desa one or more desa of one kabupaten/kota; verifikator and
    admin_dinsos one kabupaten/kota; pusat none (national).
    """
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise StaffDataError(f"not an e-mail address: {email!r}")
    if db.session.scalar(select(StaffUser.id).where(func.lower(StaffUser.email) == email)):
        raise StaffDataError(f"an account for {email} exists already")
    try:
        role_enum = Role(role)
    except ValueError:
        raise StaffDataError(f"role must be one of: {', '.join(r.value for r in Role)}") from None
    desa: list[str] = []
    if role_enum is Role.PUSAT:
        if regions:
            raise StaffDataError("pusat is national: give no region")
        office = ""
    elif role_enum is Role.OPERATOR_DESA:
        if not regions:
            raise StaffDataError(
                "operator_desa needs at least one desa code (--region 32.16.01.2001)"
            )
        for code in regions:
            if _region_level(code) != Level.DESA:
                raise StaffDataError(f"{code} is not a desa/kelurahan code")
        offices = {code[:5] for code in regions}
        if len(offices) != 1:
            raise StaffDataError("an operator's desa must all be in one kabupaten/kota")
        office, desa = offices.pop(), sorted(set(regions))
    else:
        if len(regions) != 1 or _region_level(regions[0]) != Level.KABUPATEN:
            raise StaffDataError(f"{role} needs exactly one kabupaten/kota code (--region 32.16)")
        office = regions[0]
    user = StaffUser(
        email=email, name=name.strip()[:100] or email, role=role_enum.value, office_code=office
    )
    user.desa = [StaffDesa(kode_desa=code) for code in desa]
    token = _new_enrolment(user)
    db.session.add(user)
    db.session.flush()
    record(
        "staff_created",
        staff=by,
        target_type="staff",
        target_id=user.id,
        after={"email": email, "role": role_enum.value, "office": office, "desa": desa},
    )
    db.session.commit()
    return Created(user, token)


def reset_staff(user: StaffUser, *, by: StaffUser | None = None) -> str:
    """Lost phone or password: clear both, end every session, issue a new enrolment link."""
    user.password_hash = None
    user.totp_secret = None
    user.totp_last_step = 0
    user.enrolled_at = None
    token = _new_enrolment(user)
    record("staff_reset", staff=by, target_type="staff", target_id=user.id)
    db.session.commit()
    store().revoke_all(user.id)
    return token


def set_active(user: StaffUser, active: bool, *, by: StaffUser | None = None) -> None:
    before = user.active
    user.active = active
    record(
        "staff_activated" if active else "staff_deactivated",
        staff=by,
        target_type="staff",
        target_id=user.id,
        before={"active": before},
        after={"active": active},
    )
    db.session.commit()
    if not active:
        store().revoke_all(user.id)


def by_email(email: str) -> StaffUser | None:
    return db.session.scalar(
        select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower())
    )


# --- enrolment ----------------------------------------------------------------------------


def enrolment_user(token: str) -> StaffUser:
    user = db.session.scalar(
        select(StaffUser).where(StaffUser.enrol_token_hash == token_hash(token))
    )
    if user is None or not user.active or user.enrol_expires_at is None:
        raise EnrolmentInvalid
    if user.enrol_expires_at < db.utcnow():
        raise EnrolmentInvalid
    return user


class OpenedElsewhere(AuthError):
    """The enrolment link was opened first in another browser, which alone may finish it."""


def open_enrolment(user: StaffUser, browser_token: str | None) -> str | None:
    """Bind the enrolment link to the first browser that opens it; returns a new browser
    token to set as a cookie when this is that first opening, else None.

    The authenticator key is made at that moment (any key from before is replaced) and only
    that browser is ever shown it: whoever opens the link later, elsewhere, sees nothing
    and cannot finish; the opening is audited and the officer is warned on the page.
    """
    if user.enrol_browser_hash is None:
        token = new_token()
        user.enrol_browser_hash = token_hash(token)
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = 0
        record("staff_enrol_opened", staff=user, target_type="staff", target_id=user.id)
        db.session.commit()
        return token
    if browser_token and hmac.compare_digest(token_hash(browser_token), user.enrol_browser_hash):
        return None
    user.enrol_reopened_at = db.utcnow()
    record("staff_enrol_reopened", staff=user, target_type="staff", target_id=user.id)
    db.session.commit()
    raise OpenedElsewhere


def pending_secret(user: StaffUser) -> str:
    """The TOTP secret being enrolled (made when the link is first opened)."""
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        db.session.commit()
    return user.totp_secret


def provisioning_uri(user: StaffUser) -> str:
    return pyotp.TOTP(pending_secret(user)).provisioning_uri(
        name=user.email, issuer_name=TOTP_ISSUER
    )


def check_password_strength(password: str, user: StaffUser) -> None:
    minimum = int(current_app.config["STAFF_PASSWORD_MIN"])
    if len(password) < minimum or len(set(password)) < 5:
        raise WeakPassword
    if user.email.split("@")[0] in password.lower():
        raise WeakPassword


def _accept_code(user: StaffUser, code: str) -> bool:
    """Verify a TOTP code (this, the previous or the next 30-second step) and consume its
    step, so the same code can never be used twice (replay). Conditional UPDATE: two
    requests racing with one code cannot both pass."""
    if not user.totp_secret or not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = db.utcnow()
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            result = db.session.execute(
                update(StaffUser)
                .where(StaffUser.id == user.id, StaffUser.totp_last_step < step)
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            )
            if db.rowcount(result) == 1:
                user.totp_last_step = step
                return True
            return False
    return False


def enrol(user: StaffUser, password: str, code: str) -> None:
    check_password_strength(password, user)
    if not _accept_code(user, code):
        db.session.rollback()
        raise BadCode
    user.password_hash = _hasher().hash(password)
    user.enrolled_at = db.utcnow()
    user.enrol_token_hash = None
    user.enrol_expires_at = None
    user.enrol_browser_hash = None
    user.enrol_reopened_at = None
    record("staff_enrolled", staff=user, target_type="staff", target_id=user.id)
    db.session.commit()


# --- login --------------------------------------------------------------------------------


def authenticate(email: str, password: str, code: str) -> StaffUser:
    """The officer, or LoginFailed. The same answer and the same work (an argon2 verify)
    whatever was wrong, so the form reveals neither accounts nor which factor failed."""
    user = by_email(email)
    params = _hash_params()
    hasher = _hasher_for(*params)
    try:
        stored = user.password_hash if user and user.password_hash else _dummy_hash_for(*params)
        hasher.verify(stored, password)
        password_ok = user is not None and user.password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        password_ok = False
    if not password_ok or user is None or not user.active or user.enrolled_at is None:
        _failed(user)
        raise LoginFailed
    if not _accept_code(user, code):
        _failed(user)
        raise LoginFailed
    if hasher.check_needs_rehash(user.password_hash or ""):
        user.password_hash = hasher.hash(password)
    user.last_login_at = db.utcnow()
    record("login", staff=user, target_type="staff", target_id=user.id)
    db.session.commit()
    return user


def _failed(user: StaffUser | None) -> None:
    db.session.rollback()
    record("login_failed", staff=None, target_type="staff", target_id=user.id if user else None)
    db.session.commit()


def logged_out(user: StaffUser) -> None:
    record("logout", staff=user, target_type="staff", target_id=user.id)
    db.session.commit()


def logout_everywhere(user: StaffUser) -> int:
    count = store().revoke_all(user.id)
    record(
        "logout_everywhere",
        staff=user,
        target_type="staff",
        target_id=user.id,
        after={"ended": count},
    )
    db.session.commit()
    return count

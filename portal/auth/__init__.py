"""Staff accounts, enrolment with TOTP, login, server-side sessions."""

from portal.auth.views import bp

__all__ = ["bp"]

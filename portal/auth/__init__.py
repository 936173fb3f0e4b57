"""Staff accounts, enrolment with TOTP, login, server-side sessions."""

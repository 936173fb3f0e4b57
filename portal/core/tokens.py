"""Random bearer tokens and how they are stored.

A token handed to a browser (a session, a tracking grant, a list of one's cases, a draft) is 32
random bytes, URL-safe. Where the database keeps a token only to recognise it again, it keeps
its SHA-256: a copy of the table opens nothing. A plain hash is enough, unlike for passwords,
since the token has 256 bits of entropy and cannot be guessed.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh random token (43 URL-safe characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the database keeps of TOKEN: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()

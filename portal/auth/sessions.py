"""Server-side staff sessions: revocable, with idle and absolute time-outs.

The browser holds a random token; the store keeps only its SHA-256, so a copy of the store
does not give live sessions. Two stores with one interface: the database (the embedded
default) and Redis (production, shared by every worker and server).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast

from flask import current_app
from sqlalchemy import delete, select

from portal import db
from portal.auth.models import StaffSession
from portal.core.tokens import new_token, token_hash


@dataclass(frozen=True)
class SessionInfo:
    token_hash: str
    staff_id: int
    created_at: datetime
    last_seen_at: datetime
    ip_prefix: str | None
    user_agent: str | None


def _limits() -> tuple[timedelta, timedelta]:
    cfg = current_app.config
    return (
        timedelta(minutes=int(cfg["STAFF_IDLE_MINUTES"])),
        timedelta(hours=int(cfg["STAFF_ABSOLUTE_HOURS"])),
    )


def _alive(info: SessionInfo, now: datetime) -> bool:
    idle, absolute = _limits()
    return now - info.last_seen_at <= idle and now - info.created_at <= absolute


TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most once a minute


class Store(Protocol):
    def create(self, staff_id: int, ip_prefix: str | None, user_agent: str | None) -> str: ...
    def load(self, token: str) -> SessionInfo | None: ...
    def revoke(self, hashed: str) -> None: ...
    def revoke_all(self, staff_id: int) -> int: ...
    def list(self, staff_id: int) -> list[SessionInfo]: ...


class DatabaseStore:
    """Sessions in the staff_sessions table. Commits on its own: a session outlives a
    rolled-back request, and a revocation must not wait for anything else."""

    def create(self, staff_id: int, ip_prefix: str | None, user_agent: str | None) -> str:
        token = new_token()
        now = db.utcnow()
        db.session.add(
            StaffSession(
                token_hash=token_hash(token),
                staff_id=staff_id,
                created_at=now,
                last_seen_at=now,
                ip_prefix=ip_prefix,
                user_agent=(user_agent or "")[:120],
            )
        )
        db.session.commit()
        return token

    def load(self, token: str) -> SessionInfo | None:
        row = db.session.get(StaffSession, token_hash(token))
        if row is None:
            return None
        now = db.utcnow()
        info = _info(row)
        if not _alive(info, now):
            db.session.delete(row)
            db.session.commit()
            return None
        if now - row.last_seen_at > TOUCH_EVERY:
            row.last_seen_at = now
            db.session.commit()
        return info

    def revoke(self, hashed: str) -> None:
        db.session.execute(delete(StaffSession).where(StaffSession.token_hash == hashed))
        db.session.commit()

    def revoke_all(self, staff_id: int) -> int:
        result = db.session.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
        db.session.commit()
        return db.rowcount(result)

    def list(self, staff_id: int) -> list[SessionInfo]:
        now = db.utcnow()
        rows = db.session.scalars(select(StaffSession).where(StaffSession.staff_id == staff_id))
        return [i for i in map(_info, rows) if _alive(i, now)]


def _info(row: StaffSession) -> SessionInfo:
    return SessionInfo(
        row.token_hash,
        row.staff_id,
        row.created_at,
        row.last_seen_at,
        row.ip_prefix,
        row.user_agent,
    )


class RedisStore:
    """Sessions in Redis: one key per session (expiring at the idle time-out, never past the
    absolute one) and one set per officer for 'log out everywhere'."""

    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.prefix = prefix

    def _key(self, hashed: str) -> str:
        return f"{self.prefix}:staffsess:{hashed}"

    def _user_key(self, staff_id: int) -> str:
        return f"{self.prefix}:staffsess:user:{staff_id}"

    def _ttl(self, created: datetime, now: datetime) -> int:
        idle, absolute = _limits()
        remaining = created + absolute - now
        return max(1, int(min(idle, remaining).total_seconds()))

    def create(self, staff_id: int, ip_prefix: str | None, user_agent: str | None) -> str:
        token = new_token()
        hashed = token_hash(token)
        now = db.utcnow()
        data = {
            "staff_id": staff_id,
            "created_at": now.isoformat(),
            "last_seen_at": now.isoformat(),
            "ip_prefix": ip_prefix,
            "user_agent": (user_agent or "")[:120],
        }
        pipe = self.redis.pipeline()
        pipe.set(self._key(hashed), json.dumps(data), ex=self._ttl(now, now))
        pipe.sadd(self._user_key(staff_id), hashed)
        pipe.execute()
        return token

    def _read(self, hashed: str) -> SessionInfo | None:
        # redis-py types every command for its sync and async clients alike (Awaitable | Any)
        raw = cast(bytes | None, self.redis.get(self._key(hashed)))
        if raw is None:
            return None
        data = json.loads(raw)
        return SessionInfo(
            hashed,
            int(data["staff_id"]),
            datetime.fromisoformat(data["created_at"]),
            datetime.fromisoformat(data["last_seen_at"]),
            data.get("ip_prefix"),
            data.get("user_agent"),
        )

    def load(self, token: str) -> SessionInfo | None:
        hashed = token_hash(token)
        info = self._read(hashed)
        now = db.utcnow()
        if info is None or not _alive(info, now):
            self.revoke(hashed)
            return None
        if now - info.last_seen_at > TOUCH_EVERY:
            data = {
                "staff_id": info.staff_id,
                "created_at": info.created_at.isoformat(),
                "last_seen_at": now.isoformat(),
                "ip_prefix": info.ip_prefix,
                "user_agent": info.user_agent,
            }
            self.redis.set(
                self._key(hashed), json.dumps(data), ex=self._ttl(info.created_at, now), xx=True
            )
        return info

    def revoke(self, hashed: str) -> None:
        info = self._read(hashed)
        pipe = self.redis.pipeline()
        pipe.delete(self._key(hashed))
        if info is not None:
            pipe.srem(self._user_key(info.staff_id), hashed)
        pipe.execute()

    def revoke_all(self, staff_id: int) -> int:
        members = cast(set[bytes], self.redis.smembers(self._user_key(staff_id)))
        hashes = [h.decode() for h in members]
        pipe = self.redis.pipeline()
        for hashed in hashes:
            pipe.delete(self._key(hashed))
        pipe.delete(self._user_key(staff_id))
        results = pipe.execute()
        return sum(1 for r in results[: len(hashes)] if r)

    def list(self, staff_id: int) -> list[SessionInfo]:
        now = db.utcnow()
        found = []
        for raw in cast(set[bytes], self.redis.smembers(self._user_key(staff_id))):
            info = self._read(raw.decode())
            if info is None:
                self.redis.srem(self._user_key(staff_id), raw)
            elif _alive(info, now):
                found.append(info)
        return found


def store() -> Store:
    """The configured store, one per app."""
    app = current_app
    existing = app.extensions.get("staff_session_store")
    if existing is None:
        backend = app.config["STAFF_SESSION_BACKEND"]
        if backend == "auto":
            backend = "redis" if app.config.get("REDIS_URL") else "database"
        if backend == "redis":
            existing = RedisStore(app.config["REDIS_URL"], app.config["RATELIMIT_KEY_PREFIX"])
        else:
            existing = DatabaseStore()
        app.extensions["staff_session_store"] = existing
    return existing

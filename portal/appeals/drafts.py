"""Drafts of a case: the answers given so far (a server-side row whose random token is in the
session), the evidence photos attached to it, and their expiry. Each function is one
transaction."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from portal import db, expiry
from portal.appeals import photos as photolib
from portal.appeals.errors import PhotoLimitReached
from portal.appeals.filers import filer_still_proven
from portal.appeals.models import AppealDraft, AppealPhoto
from portal.appeals.reasons import Kind
from portal.core.tokens import new_token

DRAFT_LIFETIME = timedelta(hours=24)
MAX_PHOTOS = 3


def new_draft(kind: Kind, answers: dict[str, Any] | None = None) -> AppealDraft:
    if expiry.due("appeal_drafts"):  # at most once every EXPIRED_SWEEP_SECONDS a process
        purge_drafts()
    draft = AppealDraft(token=new_token(), kind=kind.value, answers=answers or {})
    db.session.add(draft)
    db.session.commit()
    return draft


def load_draft(token: str | None, kind: Kind) -> AppealDraft | None:
    if not token:
        return None
    draft = db.session.get(AppealDraft, token)
    if draft is None or draft.kind != kind.value:
        return None
    if draft.updated_at < db.utcnow() - DRAFT_LIFETIME:
        return None
    return draft


def save_step(draft: AppealDraft, step: str, answers: dict[str, Any]) -> None:
    # assign a new dict: JSON columns do not track in-place changes
    draft.answers = {**draft.answers, step: answers}
    draft.updated_at = db.utcnow()
    db.session.commit()


# Answers that stay valid when the reason changes; the rest depend on the reason.
_REASON_INDEPENDENT = ("rumah-tangga", "desa", "foto", "kontak")


def choose_reason(draft: AppealDraft, reason_code: str) -> None:
    """Set the reason. A different reason asks different questions, so answers that depend
    on it are dropped, and an unverified filer (allowed only for a household missing from
    DTSEN) must prove themselves again."""
    previous = (draft.answers.get("alasan") or {}).get("reason")
    answers = dict(draft.answers)
    if previous and previous != reason_code:
        filer = answers.get("pelapor")
        answers = {k: v for k, v in answers.items() if k in _REASON_INDEPENDENT}
        if filer and filer_still_proven(filer, reason_code):
            answers["pelapor"] = filer
    answers["alasan"] = {"reason": reason_code}
    draft.answers = answers
    draft.updated_at = db.utcnow()
    db.session.commit()


def purge_drafts() -> int:
    """Delete drafts untouched for DRAFT_LIFETIME, with their photos; return how many.

    The rows go first (one commit), the files after: a failure in between leaves an
    orphan file, never a row that points at a missing photo.
    """
    cutoff = db.utcnow() - DRAFT_LIFETIME
    stale = list(
        db.session.scalars(select(AppealDraft.token).where(AppealDraft.updated_at < cutoff))
    )
    if not stale:
        return 0
    photos = list(db.session.scalars(select(AppealPhoto).where(AppealPhoto.draft_token.in_(stale))))
    keys = [photo.storage_key for photo in photos]
    for photo in photos:
        db.session.delete(photo)
    db.session.execute(delete(AppealDraft).where(AppealDraft.token.in_(stale)))
    db.session.commit()
    for key in keys:
        unlink_photo(key)
    return len(stale)


def upload_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"])


def unlink_photo(key: str) -> None:
    with contextlib.suppress(ValueError):
        photolib.path_for(upload_dir(), key).unlink(missing_ok=True)


def draft_photos(draft: AppealDraft) -> list[AppealPhoto]:
    stmt = (
        select(AppealPhoto).where(AppealPhoto.draft_token == draft.token).order_by(AppealPhoto.id)
    )
    return list(db.session.scalars(stmt))


def save_photo(photo: photolib.CleanPhoto, **owner: Any) -> AppealPhoto:
    """Store PHOTO's file and its row, owned as OWNER says (a draft's token, or a case and
    its field check), in one commit; a failed commit removes the file again."""
    key = photolib.store(photo, upload_dir())
    record = AppealPhoto(
        storage_key=key,
        width=photo.width,
        height=photo.height,
        size_bytes=len(photo.data),
        sha256=photo.sha256,
        **owner,
    )
    db.session.add(record)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        unlink_photo(key)
        raise
    return record


def add_photo(draft: AppealDraft, photo: photolib.CleanPhoto) -> AppealPhoto:
    if len(draft_photos(draft)) >= MAX_PHOTOS:
        raise PhotoLimitReached
    draft.updated_at = db.utcnow()  # committed with the photo
    return save_photo(photo, draft_token=draft.token)


def remove_photo(draft: AppealDraft, photo_id: int) -> None:
    photo = db.session.get(AppealPhoto, photo_id)
    if photo is None or photo.draft_token != draft.token:
        return
    unlink_photo(photo.storage_key)
    db.session.delete(photo)
    db.session.commit()

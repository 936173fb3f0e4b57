"""Reads shaped for pages: the check-answers summary, the filer's timeline and what the
receipt promises.

The summary's lines come from the questions (portal/appeals/questions.py), which mask the
numbers: a page never shows a full NIK or No. KK, not even to the filer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from portal import db
from portal.appeals import questions
from portal.appeals.journey import steps
from portal.appeals.models import Appeal, AppealPhoto
from portal.appeals.reasons import DECISION_REASONS, Kind
from portal.appeals.states import DECIDED, EXPLANATIONS, TITLES, AppealStatus
from portal.notify.contacts import mask
from portal.notify.senders import configured


@dataclass(frozen=True)
class Row:
    question: str
    answer: list[str]
    slug: str


def summarise(kind: Kind, answers: dict[str, Any], photos: list[AppealPhoto]) -> list[Row]:
    """The check-answers page: a row per question page that applies, its lines made by the
    page's questions (portal/appeals/questions.py)."""
    context = questions.Context(answers, len(photos))
    return [
        Row(
            str(step.title),
            questions.summary_lines(step.slug, answers.get(step.slug) or {}, context),
            step.slug,
        )
        for step in steps(kind, answers)
    ]


@dataclass(frozen=True)
class Entry:
    at: datetime
    status: AppealStatus
    title: str
    explanation: str
    reason: str | None = None
    note: str | None = None


def timeline(appeal: Appeal) -> list[Entry]:
    """What the filer sees: each move with its date; the written reason for decisions and
    the system's note on a case closed because a new period reflects it. Internal notes of
    other moves are staff-only and never shown here."""
    entries = []
    for event in appeal.events:
        status = AppealStatus(event.to_status)
        reason = note = None
        if status in DECIDED:
            reason = str(DECISION_REASONS.get(appeal.decision_reason or "", "")) or None
            note = appeal.decision_note
        elif status is AppealStatus.SELESAI and event.actor == "system":
            note = event.note  # what the new period shows (portal/appeals/reflected.py)
        entries.append(
            Entry(event.at, status, str(TITLES[status]), str(EXPLANATIONS[status]), reason, note)
        )
    return entries


def get_appeal(appeal_id: int) -> Appeal | None:
    return db.session.get(Appeal, appeal_id)


def news_to(appeal: Appeal) -> dict[str, str]:
    """Where the notification worker will send APPEAL's news, for its receipt: each contact
    the filer gave whose channel this deployment sends (a channel without its server set is
    never sent: portal/notify/senders.configured), masked as on the admin's list. Empty: no
    message will come, the news is on the case page only."""
    sending = configured(current_app.config)
    return {
        channel: mask(channel, recipient)
        for channel, recipient in appeal.contacts.items()
        if channel in sending
    }


def contest_of(appeal: Appeal) -> Appeal | None:
    return db.session.scalar(select(Appeal).where(Appeal.contests_id == appeal.id))

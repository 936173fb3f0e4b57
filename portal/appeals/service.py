"""Use-cases of cases: filing, state moves, withdrawal, contest. (Drafts and their photos:
drafts.py; who may file: filers.py; following a case: tracking/service.py.)

Every public function here is one transaction: it checks its invariants, changes state,
records the move, writes the notification to the outbox, commits, and returns. So a receipt
is only ever shown for a committed case. Errors are domain exceptions; views map them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app
from limits import parse as parse_limit
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from portal import db
from portal.appeals import photos as photolib
from portal.appeals import tickets
from portal.appeals.build import Region, new_appeal, region_of_desa, region_of_nik
from portal.appeals.drafts import draft_photos, save_photo
from portal.appeals.errors import (
    ContestNotAllowed,
    DraftIncomplete,
    FilerNotVerified,
    FilingLimitReached,
    InvalidTransition,
    TooManyOpenCases,
)
from portal.appeals.filers import verify_filer
from portal.appeals.models import (
    Appeal,
    AppealDraft,
    AppealEvent,
    AppealPhoto,
    OutboxMessage,
)
from portal.appeals.reasons import REASONS, Kind, Subject
from portal.appeals.states import ALLOWED, ANNOUNCED, DECIDED, OPEN, AppealStatus
from portal.dataimport import queries as snapshots

if TYPE_CHECKING:
    from portal.appeals.assisted import Context as Assisted

# --- filing -------------------------------------------------------------------------------


def _limit(key: str) -> tuple[int, timedelta]:
    item = parse_limit(str(current_app.config[key]))
    return item.amount, timedelta(seconds=item.get_expiry())


def _check_limits(filer_nik_hmac: str, verified: bool, subject_key: str | None) -> None:
    """Cases per filer's NIK, and open cases about one subject.

    Only verified filings count against a NIK, and only they are capped per subject: anyone
    may file unverified "as" any NIK, and that must not use up its owner's allowance
    (unverified filings are limited per client network instead). SUBJECT_KEY is what the
    filer typed (the NIK reported, or the No. KK proposed), never what DTSEN says about it:
    a refusal must not tell whether two NIKs share a family card."""
    amount, window = _limit("APPEAL_FILER_LIMIT")
    recent = db.session.scalar(
        select(func.count())
        .select_from(Appeal)
        .where(
            Appeal.filer_nik_hmac == filer_nik_hmac,
            Appeal.filer_verified.is_(True),
            Appeal.created_at > db.utcnow() - window,
        )
    )
    if verified and (recent or 0) >= amount:
        raise FilingLimitReached
    if subject_key is None or not verified:
        return
    open_about_subject = db.session.scalar(
        select(func.count())
        .select_from(Appeal)
        .where(
            Appeal.filer_nik_hmac == filer_nik_hmac,
            Appeal.filer_verified.is_(True),
            Appeal.status.in_([s.value for s in OPEN]),
            or_(Appeal.subject_kk_hmac == subject_key, Appeal.subject_nik_hmac == subject_key),
        )
    )
    if (open_about_subject or 0) >= int(current_app.config["APPEAL_MAX_OPEN_PER_SUBJECT"]):
        raise TooManyOpenCases


def _cluster_root(reason_code: str, subject_kk: str | None, subject_nik: str | None) -> int | None:
    """The earliest open case about the same household with the same code, if any."""
    if subject_kk is None and subject_nik is None:
        return None
    about = (
        Appeal.subject_kk_hmac == subject_kk
        if subject_kk
        else Appeal.subject_nik_hmac == subject_nik
    )
    root = db.session.scalar(
        select(Appeal)
        .where(about, Appeal.reason_code == reason_code, Appeal.status.in_([s.value for s in OPEN]))
        .order_by(Appeal.id)
        .limit(1)
    )
    if root is None:
        return None
    return root.cluster_of_id or root.id


def _new_ticket() -> str:
    while True:
        code = tickets.new_ticket()
        if db.session.scalar(select(Appeal.id).where(Appeal.ticket == code)) is None:
            return code


def submit(draft: AppealDraft, *, locale: str, assisted: Assisted | None = None) -> Appeal:
    """File the case in DRAFT. Idempotent: a retried or concurrent submit of the same draft
    returns the case the first one created. ASSISTED: a desa operator files it for a citizen
    at the desa office (portal/appeals/assisted.py): checked against the operator's desa and
    limit (OutsideOperatorDesa, FilingLimitReached), stored with the case and audited."""
    existing = appeal_for_draft(draft.token)
    if existing is not None:
        return existing
    answers = draft.answers
    try:
        reason = REASONS[answers["alasan"]["reason"]]
        filer = answers["pelapor"]
    except KeyError:
        raise DraftIncomplete from None
    filer_nik, filer_kk = filer["nik"], filer["no_kk"]
    filer_check = verify_filer(filer_nik, filer_kk, reason.code)
    verified = filer_check.verified
    if assisted is not None:
        assisted.check_case(reason, filer_check, answers)
    filer_nik_hmac, filer_kk_hmac = (
        snapshots.pseudonym(filer_nik, "nik"),
        snapshots.pseudonym(filer_kk, "kk"),
    )
    current = snapshots.current_snapshot()

    details: dict[str, Any] = {}
    subject_nik: str | None
    subject_kk: str | None
    reported: dict[str, Any] = {}  # another household as the filer described it
    if reason.subject is Subject.PROPOSED:
        household = answers.get("rumah-tangga")
        desa = (answers.get("desa") or {}).get("desa")
        if not household or not desa:
            raise DraftIncomplete
        subject_nik = household["head_nik"]
        subject_kk = snapshots.pseudonym(household["no_kk"], "kk")
        home = snapshots.household(current.id, subject_kk) if current is not None else None
        found = home is not None
        # A No. KK already in DTSEN goes to the staff of the area where DTSEN has it, not of
        # the desa the filer chose (anyone could name any No. KK and their own desa).
        region = region_of_desa(home.kode_desa if home is not None else desa)
        own = household["no_kk"] == filer_kk
        details = {
            "household": {"no_kk": household["no_kk"], "alamat": household["alamat"], "desa": desa},
            "programs": (answers.get("program") or {}).get("programs", []),
            "conditions": answers.get("kondisi") or {},
        }
        if home is not None and home.kode_desa != desa:
            details["desa_mismatch"] = {"chosen": desa, "dtsen": home.kode_desa}
        if reason.code == "USUL-AHLI-WARIS":
            heir = answers.get("ahli-waris")
            if not heir:
                raise DraftIncomplete
            details["heir"] = heir
    else:
        subject = answers.get("subjek") or {"whose": "own"}
        own = reason.subject is Subject.OWN or subject.get("whose") == "own"
        if own:
            membership = filer_check.membership
            if membership is None:
                raise FilerNotVerified
            # found: in the current data (a household removed in the last update is not)
            subject_nik, subject_kk = filer_nik, filer_kk_hmac
            found = current is not None and membership.snapshot.id == current.id
            region = region_of_desa(membership.household.kode_desa)
        else:
            subject_nik, subject_kk, found, region, reported = _other_household(
                subject, current, details
            )
        if "rincian" not in answers:
            raise DraftIncomplete
    subject_nik_hmac = snapshots.pseudonym(subject_nik, "nik") if subject_nik else None
    typed = subject_nik_hmac if reason.subject is not Subject.PROPOSED and not own else subject_kk
    _check_limits(filer_nik_hmac, verified, typed)

    rincian = answers.get("rincian") or {}
    contact = answers.get("kontak") or {}
    appeal = new_appeal(
        ticket=_new_ticket(),
        reason_code=reason.code,
        region=region,
        filer_nik=filer_nik,
        filer_nik_hmac=filer_nik_hmac,
        filer_kk_hmac=filer_kk_hmac,
        filer_verified=verified,
        subject_is_filer_household=own,
        subject_found=found,
        draft_token=draft.token,
        locale=locale,
        subject_nik_hmac=subject_nik_hmac,
        subject_nik=subject_nik,
        subject_kk_hmac=subject_kk,
        note=rincian.get("note", ""),
        evidence=rincian.get("evidence", []),
        details=details,
        contact_phone=contact.get("phone") or None,
        contact_email=contact.get("email") or None,
        period=current.period if current else None,
        **reported,
        cluster_of_id=_cluster_root(reason.code, subject_kk, subject_nik_hmac)
        if reason.kind is Kind.SANGGAHAN
        else None,
    )
    token = draft.token
    try:
        db.session.add(appeal)
        db.session.flush()  # the unique draft_token decides a race here (or at commit)
        _record(appeal, None, AppealStatus.DITERIMA, actor="filer")
        if assisted is not None:
            assisted.record(appeal)
        for photo in draft_photos(draft):
            photo.appeal_id = appeal.id
            photo.draft_token = None
        db.session.delete(draft)
        db.session.commit()
    except IntegrityError:
        # the same draft submitted twice at once: the other request won, show its case
        db.session.rollback()
        winner = appeal_for_draft(token)
        if winner is None:
            raise
        return winner
    return appeal


def _other_household(
    subject: dict[str, Any], current: snapshots.SnapshotRef | None, details: dict[str, Any]
) -> tuple[str | None, str | None, bool, Region, dict[str, Any]]:
    """Another household, as the filer described it: name, address (RT/RW), desa, and a NIK
    only if they knew one. Returns (NIK, No. KK HMAC, found, region, the columns).

    A NIK found in DTSEN links the household at once, and the case goes to the staff of the
    area where DTSEN has it (anyone could type any NIK next to their own choice of desa);
    a desa that differs is flagged for staff. Otherwise the case goes to the staff of the
    desa the filer named, who match it to DTSEN by name (portal/review/matching.py)."""
    subject_nik = subject.get("subject_nik") or None
    desa = subject.get("desa") or None
    if subject_nik is None and desa is None:
        raise DraftIncomplete
    reported = {
        "subject_name": subject.get("subject_name") or None,
        "subject_alamat": subject.get("subject_alamat") or None,
        "subject_rt": subject.get("subject_rt") or None,
        "subject_rw": subject.get("subject_rw") or None,
        "subject_kode_desa": desa,
    }
    person = (
        snapshots.person(current.id, snapshots.pseudonym(subject_nik, "nik"))
        if current is not None and subject_nik
        else None
    )
    if person is None:
        region = region_of_desa(desa) if desa else region_of_nik(subject_nik or "")
        return subject_nik, None, False, region, reported
    home = snapshots.household(person.snapshot_id, person.kk_hmac)
    if home is None:  # cannot happen with the FK
        region = region_of_desa(desa) if desa else region_of_nik(person.nik)
    else:
        region = region_of_desa(home.kode_desa)
        if desa and home.kode_desa != desa:
            details["desa_mismatch"] = {"chosen": desa, "dtsen": home.kode_desa}
    return subject_nik, person.kk_hmac, True, region, reported


def appeal_for_draft(token: str | None) -> Appeal | None:
    """The case filed from this draft, if it was filed (a retried or double-clicked submit)."""
    if not token:
        return None
    return db.session.scalar(select(Appeal).where(Appeal.draft_token == token))


# --- moves --------------------------------------------------------------------------------


def _record(
    appeal: Appeal,
    before: AppealStatus | None,
    after: AppealStatus,
    *,
    actor: str,
    staff_id: int | None = None,
    note: str | None = None,
) -> AppealEvent:
    event = AppealEvent(
        appeal_id=appeal.id,
        from_status=before.value if before else None,
        to_status=after.value,
        actor=actor,
        actor_staff_id=staff_id,
        note=note,
    )
    event.appeal = appeal  # in appeal.events once read, without reading them now
    db.session.add(event)
    _notify(appeal, after)
    return event


def _notify(appeal: Appeal, status: AppealStatus) -> None:
    if status not in ANNOUNCED:
        return
    payload = {"ticket": appeal.ticket, "status": status.value}
    for channel, recipient in appeal.contacts.items():
        db.session.add(
            OutboxMessage(
                appeal_id=appeal.id,
                channel=channel,
                recipient=recipient,
                template="status_changed",
                payload=payload,
                locale=appeal.filer_locale,
            )
        )


def transition(
    appeal: Appeal,
    target: AppealStatus,
    *,
    actor: str,
    staff_id: int | None = None,
    note: str | None = None,
    decision_reason: str | None = None,
) -> AppealEvent:
    """The one way a case changes state. Does not commit: the calling use-case does.

    Uses a conditional UPDATE on the current state, so two concurrent moves of the same
    case cannot both succeed: the loser's whole transaction is rolled back (nothing of a
    half-done use-case survives) and it gets InvalidTransition; a batch use-case such as
    the export retries from the start.
    """
    from sqlalchemy import update

    before = AppealStatus(appeal.status)
    if target not in ALLOWED[before]:
        raise InvalidTransition(f"{before} -> {target}")
    now = db.utcnow()
    values: dict[str, Any] = {"status": target.value, "updated_at": now}
    if target in DECIDED:
        values.update(decided_at=now, decision_reason=decision_reason, decision_note=note)
    result = db.session.execute(
        update(Appeal)
        .where(Appeal.id == appeal.id, Appeal.status == before.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if db.rowcount(result) != 1:
        db.session.rollback()
        raise InvalidTransition(f"{before} -> {target}: changed meanwhile")
    for key, value in values.items():
        setattr(appeal, key, value)
    return _record(appeal, before, target, actor=actor, staff_id=staff_id, note=note)


def transition_all(
    where: Any,
    target: AppealStatus,
    *,
    before: AppealStatus,
    actor: str,
    staff_id: int | None = None,
    moved: Any,
    values: dict[str, Any] | None = None,
) -> int:
    """transition() for a whole set, in three statements whatever its size: move every
    case matching WHERE that is in BEFORE to TARGET (setting VALUES too), then write each
    moved case's event and notifications with INSERT ... SELECT. MOVED must pick out
    exactly the cases this call moved once they are moved (e.g. ``export_id == 7`` when
    VALUES sets it). Does not commit. Returns how many moved.

    Concurrency as transition(): the update is conditional on the state, so on PostgreSQL a
    case another transaction moves first is skipped once that one commits (re-checked
    under its row lock), never moved twice. Decisions carry a reason and a note per case,
    so they are not made in bulk."""
    from sqlalchemy import Integer, String, insert, literal, null, update

    if target not in ALLOWED[before] or target in DECIDED:
        raise InvalidTransition(f"{before} -> {target}")
    now = db.utcnow()
    result = db.session.execute(
        update(Appeal)
        .where(where, Appeal.status == before.value)
        .values(status=target.value, updated_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    count = db.rowcount(result)
    if not count:
        return 0
    mine = (moved, Appeal.status == target.value)
    staff = literal(staff_id, Integer) if staff_id is not None else null()
    db.session.execute(
        insert(AppealEvent).from_select(
            ["appeal_id", "at", "from_status", "to_status", "actor", "actor_staff_id", "note"],
            select(
                Appeal.id,
                literal(now, db.UTCDateTime()),
                literal(before.value, String),
                literal(target.value, String),
                literal(actor, String),
                staff,
                null(),
            )
            .where(*mine)
            .order_by(Appeal.id),
        )
    )
    postgres = db.session.get_bind().dialect.name == "postgresql"
    build = func.json_build_object if postgres else func.json_object
    payload = build("ticket", Appeal.ticket, "status", target.value)
    announced = (("sms", Appeal.contact_phone), ("email", Appeal.contact_email))
    for channel, recipient in announced if target in ANNOUNCED else ():
        db.session.execute(
            insert(OutboxMessage).from_select(
                [
                    "appeal_id",
                    "channel",
                    "recipient",
                    "template",
                    "payload",
                    "locale",
                    "created_at",
                    "attempts",
                ],
                select(
                    Appeal.id,
                    literal(channel, String),
                    recipient,
                    literal("status_changed", String),
                    payload,
                    Appeal.filer_locale,
                    literal(now, db.UTCDateTime()),
                    literal(0, Integer),
                )
                .where(*mine, recipient.is_not(None), recipient != "")
                .order_by(Appeal.id),
            )
        )
    return count


def withdraw(appeal: Appeal) -> Appeal:
    """The filer withdraws a case that is not decided yet."""
    if AppealStatus(appeal.status) not in OPEN:
        raise InvalidTransition("only an open case can be withdrawn")
    transition(appeal, AppealStatus.DIBATALKAN, actor="filer")
    db.session.commit()
    return appeal


def contest_deadline(appeal: Appeal) -> datetime | None:
    if appeal.decided_at is None:
        return None
    return appeal.decided_at + timedelta(days=int(current_app.config["CONTEST_DAYS"]))


def can_contest(appeal: Appeal) -> bool:
    deadline = contest_deadline(appeal)
    return (
        AppealStatus(appeal.status) in DECIDED
        and appeal.contests_id is None  # a contest is not contested again
        and deadline is not None
        and db.utcnow() <= deadline
        and db.session.scalar(select(Appeal.id).where(Appeal.contests_id == appeal.id)) is None
    )


# What a contest takes over from the contested case: who filed, about whom, and the
# evidence (where it belongs too: its Region). Everything about its handling (state,
# officers, decision, dates) starts afresh.
CARRIED_TO_CONTEST = (
    "reason_code",
    "filer_nik_hmac",
    "filer_nik",
    "filer_kk_hmac",
    "filer_verified",
    "subject_is_filer_household",
    "subject_nik_hmac",
    "subject_nik",
    "subject_kk_hmac",
    "subject_found",
    "subject_name",
    "subject_alamat",
    "subject_rt",
    "subject_rw",
    "subject_kode_desa",
    "subject_linked_by_id",
    "subject_linked_at",
    "evidence",
    "details",
    "contact_phone",
    "contact_email",
    "period",
)


def contest(appeal: Appeal, note: str, *, locale: str) -> Appeal:
    """Contest a decision once, within CONTEST_DAYS: a new case linked to the first."""
    if not can_contest(appeal):
        raise ContestNotAllowed
    carried = {column: getattr(appeal, column) for column in CARRIED_TO_CONTEST}
    new = new_appeal(
        **carried,
        ticket=_new_ticket(),
        region=Region(appeal.kabupaten_code, appeal.kecamatan_code, appeal.kode_desa),
        locale=locale,
        note=note,
        contests_id=appeal.id,
        draft_token=f"contest:{appeal.id}",  # one contest per case, enforced by the index
    )
    db.session.add(new)
    db.session.flush()
    _record(new, None, AppealStatus.DITERIMA, actor="filer")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ContestNotAllowed from None
    return new


def add_staff_photo(appeal: Appeal, field_check_id: int, photo: photolib.CleanPhoto) -> AppealPhoto:
    """A photo taken by a desa operator during a field check."""
    return save_photo(
        photo, appeal_id=appeal.id, field_check_id=field_check_id, uploaded_by="staff"
    )

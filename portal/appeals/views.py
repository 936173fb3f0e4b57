"""HTTP for filing cases (following them: portal/appeals/tracking). One generic view walks
the question pages of ``journey``; the answers live in a server-side draft whose opaque token
is in the session. The NIK only ever travels in POST bodies.

Every POST answers with a redirect (Post/Redirect/Get, portal/replay): a failed form is kept
on the server and shown again by the GET of its page (answers that passed, messages in the
reader's language), so Back, refresh and the language switch never send a form twice. Only
the 429 and wait pages answer a POST directly. Numbers given before are offered masked
instead of empty boxes (portal/appeals/prefill.py). A draft that was sent leads to its
receipt from any of its pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from werkzeug.wrappers import Response

from portal import policy, replay
from portal.appeals import (
    assisted,
    drafts,
    errors,
    filers,
    journey,
    picker,
    prefill,
    questions,
    service,
    uploads,
)
from portal.appeals import forms as f
from portal.appeals import queries as appeal_queries
from portal.appeals.models import Appeal, AppealDraft
from portal.appeals.reasons import REASONS, Kind
from portal.errors import must_wait, too_many_requests
from portal.extensions import limiter
from portal.guard import accepts_photos, csrf_in_form, photo_too_large
from portal.security import ip_prefix

bp = Blueprint("appeals", __name__)


KINDS = {k.value: k for k in Kind}
# "remove:<photo id>": ASCII digits only, and few enough to be a database id
REMOVE_PHOTO = re.compile(r"remove:(\d{1,9})", re.ASCII)


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        abort(404)
    return kind


def _draft(kind: Kind) -> AppealDraft | None:
    return drafts.load_draft((session.get("drafts") or {}).get(kind.value), kind)


def _remember_draft(kind: Kind, draft: AppealDraft) -> None:
    session["drafts"] = {**(session.get("drafts") or {}), kind.value: draft.token}


def _filed(kind: Kind) -> Appeal | None:
    """The case this browser's draft of KIND became, once it was sent."""
    return service.appeal_for_draft((session.get("drafts") or {}).get(kind.value))


def to_receipt(appeal: Appeal) -> Response:
    """Show APPEAL's receipt (a new case, or the contest of a decision)."""
    session["receipt"] = appeal.id
    return redirect(url_for("appeals.receipt"))


def _returning() -> bool:
    """Sent from "Change" on the check-answers page: go back there once answered."""
    return request.values.get("return") == "check"


def _here(endpoint: str, **args: Any) -> str:
    """The GET of the current page (keeping ``return=check``), where a failed POST goes."""
    if _returning():
        args["return"] = "check"
    return url_for(endpoint, **args)


FILER_NOT_FOUND = _l(
    "We could not find this NIK with this No. KK in DTSEN. Check both numbers on your family "
    "card. If your household is not in DTSEN, file an usulan instead."
)
FILER_REMOVED = _l(
    "Your household is not in the latest DTSEN data: it was removed in the last update. This "
    "case needs a household that is in the current data."
)
HEIR_NOT_ON_CARD = _l("Both people must be on the same family card in DTSEN. Check the numbers.")
NOT_OPERATORS_DESA = _l(
    "You can only file for households of your desa: DTSEN has this household in another desa."
)
NOT_OPERATORS_DESA_ADDRESS = _l("You can only file for households of your desa: choose one.")
NO_PHOTO_CHOSEN = _l("Choose a photo first, or press Continue to go on without one.")
ASSIST_ENDED = _l("Filing for a citizen ended (it lasts 45 minutes): start again.")
TOO_MANY_OPEN = _l(
    "You already have open cases about this household. Follow them with their ticket numbers "
    "at Track a case; you can file again once they are decided."
)


def _assisted(kind: Kind) -> tuple[assisted.Context | None, Response | None]:
    """The operator's assisted context for KIND, or where to go when it ended meanwhile (a
    filing started for a citizen must never go on as the operator's own)."""
    started = assisted.KEY in session
    context = assisted.current(kind)
    if started and context is None:
        assisted.end()
        flash(str(ASSIST_ENDED), "error")
        return None, redirect(url_for("appeals.assist.start"))
    return context, None


def _no_new_draft() -> bool:
    """Only the first answer (the reason) of a browser without a draft starts a new one."""
    args = request.view_args or {}
    if args.get("slug") != "alasan":
        return True
    kind = KINDS.get(args.get("kind_name", ""))
    return kind is None or _draft(kind) is not None


# --- start --------------------------------------------------------------------------------


@bp.get("/ajukan")
def start() -> str:
    return render_template("appeals/start.html")


@bp.get("/<any(sanggahan,usulan):kind_name>")
def start_kind(kind_name: str) -> str:
    """The start page of a channel: what to have at hand, how long it takes, then "Mulai"
    to the first question. Only a known reason of this kind is carried over (links from the
    look-up preselect it); any other argument is dropped, never passed on to url_for (where
    it could set _external)."""
    kind = _kind(kind_name)
    code = request.args.get("alasan")
    reason = REASONS.get(code) if code else None
    if reason is not None and reason.kind is not kind:
        reason = None
    args: dict[str, Any] = {"alasan": reason.code} if reason else {}
    # the most question pages any reason of this kind asks (the journey decides, not a number
    # typed here)
    pages = max(
        len(journey.steps(kind, {"alasan": {"reason": r.code}}))
        for r in REASONS.values()
        if r.kind is kind
    )
    return render_template(
        "appeals/start_kind.html",
        kind=kind,
        reason=reason,
        pages=pages,
        draft_seconds=int(drafts.DRAFT_LIFETIME.total_seconds()),
        first_question=url_for("appeals.step", kind_name=kind.value, slug="alasan", **args),
    )


# --- the question pages -------------------------------------------------------------------


# The desa picker's buttons: a search shows the page again with the answers typed so far;
# only "continue" (or no action: Enter in a field) checks and saves them.
DESA_SEARCH = ("search", "search_all")
# posted beside the answers by the desa picker: kept when a search comes back as a GET
DESA_FIELDS = ("action", "desa_q", "desa_scope")


def _desa_choices(
    slug: str, answers: dict[str, Any], saved: dict[str, Any], formdata: Any
) -> picker.Picker:
    """The desa picker of SLUG: the family card that says where to search first is the
    household's (usulan) or, for a reported neighbour, the filer's own. FORMDATA is what
    the form is filled from (the POST), None when showing the saved answer."""
    card = (answers.get("pelapor" if slug == "subjek" else "rumah-tangga") or {}).get("no_kk")
    action = formdata.get("action") if formdata else None
    query = formdata.get("desa_q") if formdata else saved.get("desa_q")
    everywhere = action == "search_all" or (
        action != "search" and bool(formdata) and formdata.get("desa_scope") == "all"
    )
    # the answer given before, or the one being posted (found by a search): any real desa
    keep = [saved.get("desa"), formdata.get("desa") if formdata else None]
    chooser = picker.build(card, query, everywhere=everywhere, keep=keep)
    chooser.filer_card = slug == "subjek"
    return chooser


def _with_picker(form: Any, formdata: Any) -> Any:
    """A search is no answer: the page comes back with what was typed, nothing is checked."""
    form.searching = bool(formdata) and formdata.get("action") in DESA_SEARCH
    return form


@dataclass(frozen=True)
class _Page:
    """What a question page's form is made from. FORMDATA is the POST (None to show the
    page); DATA the page's saved answers without its numbers (a page of numbers is never
    filled from them: they are offered masked instead, prefill.py)."""

    kind: Kind
    slug: str
    answers: dict[str, Any]
    saved: dict[str, Any]
    data: dict[str, Any]
    formdata: Any

    def desa_picker(self) -> picker.Picker:
        return _desa_choices(self.slug, self.answers, self.saved, self.formdata)

    def preselected(self) -> dict[str, Any]:
        """A reason of this kind named by the link that led here (the look-up's result, the
        filer step of a removed household), even over one answered before: the person
        followed a link for it. Otherwise the answer given."""
        reason = REASONS.get(request.args.get("alasan", ""))
        if reason is not None and reason.kind is self.kind:
            return {"reason": reason.code}
        return self.data


# The form of each question page (its fields: portal/appeals/questions.py)
FORMS: dict[str, Callable[[_Page], Any]] = {
    "alasan": lambda p: f.ReasonForm(p.kind, formdata=p.formdata, data=p.preselected()),
    "pelapor": lambda p: f.FilerForm(formdata=p.formdata),
    "subjek": lambda p: _with_picker(
        f.SubjectForm(p.desa_picker(), formdata=p.formdata, data=p.data), p.formdata
    ),
    "rincian": lambda p: f.DetailsForm(
        REASONS[p.answers["alasan"]["reason"]].evidence, formdata=p.formdata, data=p.data
    ),
    "rumah-tangga": lambda p: f.HouseholdForm(formdata=p.formdata, data=p.data),
    "desa": lambda p: _with_picker(
        f.DesaForm(p.desa_picker(), formdata=p.formdata, data=p.data), p.formdata
    ),
    "program": lambda p: f.ProgramsForm(formdata=p.formdata, data=p.data),
    "kondisi": lambda p: f.ConditionsForm(formdata=p.formdata, data=p.data),
    "ahli-waris": lambda p: f.HeirForm(formdata=p.formdata),
    "kontak": lambda p: f.ContactForm(formdata=p.formdata, data=p.data),
}


def _form(kind: Kind, slug: str, answers: dict[str, Any], formdata: Any) -> Any:
    make = FORMS.get(slug)
    if make is None:
        abort(404)
    saved = answers.get(slug) or {}
    data = {k: v for k, v in saved.items() if k not in ("nik", "no_kk", "verified")}
    return make(_Page(kind, slug, answers, saved, data, formdata))


def _answers_of(form: Any) -> dict[str, Any]:
    """The answers to keep: validated field data, NIK/KK fields as normalised numbers."""
    kept: dict[str, Any] = {}
    for field in form:
        if field.name in ("csrf_token", "website"):
            continue
        kept[field.name] = getattr(field, "number", None) or field.data
    return kept


@bp.route("/<any(sanggahan,usulan):kind_name>/<slug>", methods=["GET", "POST"])
@csrf_in_form
@limiter.limit(
    lambda: current_app.config["DRAFT_LIMIT"],
    methods=["POST"],
    exempt_when=_no_new_draft,
    scope="appeal-draft-ip",
)
@policy.checks(policy.Check.FILER, policy.Check.HEIR)
def step(kind_name: str, slug: str) -> Any:
    kind = _kind(kind_name)
    current = journey.get(kind, slug)
    if current is None:
        abort(404)
    helping, ended = _assisted(kind)
    if ended is not None:
        return ended
    draft = _draft(kind)
    filed = _filed(kind) if draft is None else None
    if filed is not None and slug != "alasan":
        return to_receipt(filed)  # Back after sending: the case was not lost
    answers = draft.answers if draft else {}
    if slug != "alasan" and (draft is None or not journey.reachable(kind, answers, slug)):
        return _resume(kind, answers)
    if not current.applies(answers):
        return redirect(
            url_for(
                "appeals.step", kind_name=kind.value, slug=journey.next_slug(kind, answers, slug)
            )
        )
    page = f"{kind.value}/{slug}"
    if request.method != "POST":
        restored = replay.restore(page)
        form = _form(kind, slug, answers, restored.formdata if restored else None)
        prefill.offer_all(slug, form, answers)
        if restored:
            restored.apply(form)
        removed = restored.notes.get("removed") if restored else None
        return _step_page(
            kind, current, form, answers, filed=filed, helping=helping, removed=removed
        )

    form = _form(kind, slug, answers, request.form)
    prefill.offer_all(slug, form, answers)
    notes: dict[str, Any] = {}  # for the page shown again: a removed filer's periods
    if getattr(form, "honeypot_filled", lambda: False)():
        return too_many_requests()
    if getattr(form, "searching", False):
        # a desa search is no answer: the page comes back (a GET) with the search and
        # everything typed so far, nothing checked or saved
        return replay.again(
            form, page, _here("appeals.step", kind_name=kind.value, slug=slug), extra=DESA_FIELDS
        )
    if form.validate():
        mismatch = prefill.inconsistent(slug, form, answers)
        if mismatch:
            form.head_nik.errors.append(mismatch)
            return replay.again(form, page, _here("appeals.step", kind_name=kind.value, slug=slug))
        kept = _answers_of(form)
        try:
            _check_step(slug, kind, answers, form, kept, helping)
        except policy.Refused:
            return too_many_requests()
        except policy.MustWait as wait:
            form = _form(kind, slug, answers, None)
            prefill.offer_all(slug, form, answers)
            body = _step_page(kind, current, form, answers, wait=wait, helping=helping)
            return must_wait(body, wait.seconds)
        except errors.FilerRemoved as removed:
            form.no_kk.errors.append(FILER_REMOVED)
            notes = {"removed": {"old": removed.check.period, "new": removed.check.current}}
        except errors.FilerNotVerified:
            form.no_kk.errors.append(FILER_NOT_FOUND)
        except errors.HeirNotInHousehold:
            form.heir_nik.errors.append(HEIR_NOT_ON_CARD)
        except errors.OutsideOperatorDesa:
            if slug == "desa":
                form.desa.errors.append(NOT_OPERATORS_DESA_ADDRESS)
            else:
                form.no_kk.errors.append(NOT_OPERATORS_DESA)
        else:
            if draft is None:
                draft = drafts.new_draft(kind)
                _remember_draft(kind, draft)
            if slug == "alasan":
                drafts.choose_reason(draft, kept["reason"])
            else:
                drafts.save_step(draft, slug, kept)
            replay.done(page)
            target = journey.CHECK if _returning() else None
            target = (
                target if target and journey.first_missing(kind, draft.answers) is None else None
            )
            return redirect(
                url_for(
                    "appeals.step",
                    kind_name=kind.value,
                    slug=target or journey.next_slug(kind, draft.answers, slug),
                )
            )
    # a refused answer keeps the picker's search too (a nationwide one stays nationwide)
    return replay.again(
        form,
        page,
        _here("appeals.step", kind_name=kind.value, slug=slug),
        notes=notes,
        extra=DESA_FIELDS,
    )


def _step_page(
    kind: Kind,
    current: journey.Step,
    form: Any,
    answers: dict[str, Any],
    *,
    wait: policy.MustWait | None = None,
    filed: Appeal | None = None,
    helping: assisted.Context | None = None,
    removed: dict[str, str] | None = None,
) -> str:
    """REMOVED: the filer's household was removed in the last update (its periods, "old"
    and "new"): the page says so and leads to the sanggahan about the removal."""
    slug = current.slug
    return render_template(
        "appeals/step.html",
        kind=kind,
        step=current,
        form=form,
        wait=wait,
        answers=answers,
        back=journey.previous_slug(kind, answers, slug),
        position=_position(kind, answers, slug),
        filed=filed,
        assisted=helping,
        removed=removed,
    )


def _check_step(
    slug: str,
    kind: Kind,
    answers: dict[str, Any],
    form: Any,
    kept: dict[str, Any],
    helping: assisted.Context | None = None,
) -> None:
    """Checks against DTSEN that a form alone cannot make, each through the policy: a "no"
    is a miss for every number it was about, whether the filing may go on or not. A desa
    operator filing for a citizen (HELPING) files for the households of their desa only."""
    wait = request.form.get("wait")
    if slug == "desa" and helping is not None:
        helping.check_desa(kept.get("desa"))
    if slug == "pelapor":
        reason = (answers.get("alasan") or {}).get("reason", "")
        numbers = [policy.nik(kept["nik"]), policy.kk(kept["no_kk"])]
        admission = policy.admit(policy.Check.FILER, numbers, wait)
        try:
            found = filers.verify_filer(kept["nik"], kept["no_kk"], reason)
        except errors.FilerRemoved as removed:
            # a match, as at the look-up (no miss): the page tells "removed", as the look-up
            # does for the same numbers, and the read is logged like the look-up's
            # (committed with the refused form kept for its page, portal/replay)
            if helping is not None:
                helping.check_filer(REASONS[reason], removed.check)
            _record_filer_read(removed.check, kept["no_kk"], helping)
            raise
        except errors.FilerNotVerified:
            policy.missed(admission)
            raise
        if helping is not None:
            # before the read is recorded: a refused household's data is not shown
            helping.check_filer(REASONS[reason], found)
        kept["verified"], kept["period"] = found.verified, found.period
        _record_filer_read(found, kept["no_kk"], helping)
        if found.verified:
            flash(questions.filer_found(found.period), "success")
        if not kept["verified"]:  # filed unverified (a household missing from DTSEN)
            policy.missed(admission)
    if slug == "ahli-waris":
        no_kk = answers["rumah-tangga"]["no_kk"]
        numbers = [
            policy.kk(no_kk),
            policy.nik(kept["deceased_nik"]),
            policy.nik(kept["heir_nik"]),
        ]
        admission = policy.admit(policy.Check.HEIR, numbers, wait)
        try:
            filers.check_heir(no_kk, kept["deceased_nik"], kept["heir_nik"])
        except errors.HeirNotInHousehold:
            policy.missed(admission)
            raise


def _record_filer_read(
    found: filers.FilerCheck, no_kk: str, helping: assisted.Context | None
) -> None:
    filers.record_filer_read(
        found,
        no_kk,
        ip_prefix(request.remote_addr),
        office=helping.kode_desa if helping else None,
    )


def _position(kind: Kind, answers: dict[str, Any], slug: str) -> tuple[int, int | None]:
    """Question N of TOTAL. The questions depend on the reason only, so no total is shown
    before it is chosen: a total the person saw never changes (unless they change the
    reason)."""
    slugs = [s.slug for s in journey.steps(kind, answers)]
    number = slugs.index(slug) + 1 if slug in slugs else len(slugs)
    return (number, len(slugs) if (answers.get("alasan") or {}).get("reason") else None)


def _resume(kind: Kind, answers: dict[str, Any]) -> Response:
    slug = journey.first_missing(kind, answers) or journey.CHECK
    return redirect(url_for("appeals.step", kind_name=kind.value, slug=slug))


@bp.route("/<any(sanggahan,usulan):kind_name>/foto", methods=["GET", "POST"])
@accepts_photos
@csrf_in_form
@limiter.limit(lambda: current_app.config["PHOTO_LIMIT"], methods=["POST"], scope="photo-ip")
def photo_step(kind_name: str) -> Any:
    kind = _kind(kind_name)
    helping, ended = _assisted(kind)
    if ended is not None:
        return ended
    draft = _draft(kind)
    if draft is None and (filed := _filed(kind)) is not None:
        return to_receipt(filed)
    answers = draft.answers if draft else {}
    if draft is None or not journey.reachable(kind, answers, "foto"):
        return _resume(kind, answers)
    page = f"{kind.value}/foto"
    here = _here("appeals.photo_step", kind_name=kind.value)
    if request.method == "POST":
        form = f.PhotosForm()
        if photo_too_large():
            # nothing of the body was read (its token neither): only the message is kept
            form.form_errors.append(uploads.too_large_body())
            return replay.again(form, page, here)
        if not form.validate():
            return replay.again(form, page, here)
        action = request.form.get("action", "continue")
        removed = REMOVE_PHOTO.fullmatch(action)
        if removed:
            drafts.remove_photo(draft, int(removed[1]))
            return redirect(here)
        files = uploads.chosen(request.files.getlist("photos"))
        if action == "upload" and not files:
            # "Add photos" with none chosen is a slip, not "no photos": stay and say so
            form.photos.errors = [NO_PHOTO_CHOSEN]
            return replay.again(form, page, here)
        room = drafts.MAX_PHOTOS - len(drafts.draft_photos(draft))
        uploaded = uploads.read(files, room)
        for clean in uploaded.photos:
            drafts.add_photo(draft, clean)  # the good ones are kept, even beside a bad one
        if uploaded.errors:
            form.photos.errors = uploaded.errors
            return replay.again(form, page, here)
        replay.done(page)
        if action == "upload":
            flash(
                ngettext("Photo added.", "%(num)d photos added.", len(uploaded.photos)),
                "success",
            )
            return redirect(here)
        drafts.save_step(draft, "foto", {"count": len(drafts.draft_photos(draft))})
        target = journey.CHECK if _returning() else journey.next_slug(kind, draft.answers, "foto")
        return redirect(url_for("appeals.step", kind_name=kind.value, slug=target))
    form = f.PhotosForm(formdata=None)
    kept = replay.restore(page)
    if kept:
        kept.apply(form)
    return render_template(
        "appeals/step_foto.html",
        kind=kind,
        step=journey.get(kind, "foto"),
        form=form,
        photos=drafts.draft_photos(draft),
        max_photos=drafts.MAX_PHOTOS,
        back=journey.previous_slug(kind, answers, "foto"),
        position=_position(kind, answers, "foto"),
        assisted=helping,
    )


# --- check answers and submit -------------------------------------------------------------


@bp.route("/<any(sanggahan,usulan):kind_name>/periksa", methods=["GET", "POST"])
@csrf_in_form
@policy.checks(policy.Check.FILER)  # sending re-verifies the filer (policy.recheck)
@limiter.limit(
    lambda: current_app.config["APPEAL_LIMIT"], methods=["POST"], scope="appeal-submit-ip"
)
def check(kind_name: str) -> Any:
    kind = _kind(kind_name)
    helping, ended = _assisted(kind)
    if ended is not None:
        return ended
    draft = _draft(kind)
    if draft is None:
        # Sent already: a double click, a retry, Back or a bookmark shows its receipt.
        filed = _filed(kind)
        if filed is not None:
            return to_receipt(filed)
        return _resume(kind, {})
    if not journey.reachable(kind, draft.answers, journey.CHECK):
        return _resume(kind, draft.answers)
    page = f"{kind.value}/{journey.CHECK}"
    if request.method == "POST":
        form = f.CheckForm()
        if form.honeypot_filled():
            return too_many_requests()
        if form.validate():
            policy.recheck()  # the filer's numbers, admitted at the filer step of this draft
            try:
                appeal = service.submit(draft, locale=g.get("locale", "id"), assisted=helping)
            except errors.FilingLimitReached:
                return too_many_requests()
            except errors.OutsideOperatorDesa:
                form.declaration.errors.append(NOT_OPERATORS_DESA)
            except errors.TooManyOpenCases:
                form.declaration.errors.append(TOO_MANY_OPEN)
            except errors.FilerNotVerified:
                return redirect(url_for("appeals.step", kind_name=kind.value, slug="pelapor"))
            except errors.DraftIncomplete:
                return _resume(kind, draft.answers)
            else:
                # the draft token stays in the session: a retry of this POST finds the case
                replay.done(page)
                if helping is not None:
                    # the next citizen starts afresh; the operator's receipt page has it
                    assisted.end()
                    return redirect(url_for("appeals.assist.receipt", appeal_id=appeal.id))
                return to_receipt(appeal)
        return replay.again(form, page, url_for("appeals.check", kind_name=kind.value))
    kept = replay.restore(page)
    form = f.CheckForm(formdata=kept.formdata if kept else None)
    if kept:
        kept.apply(form)
    return render_template(
        "appeals/check.html",
        kind=kind,
        form=form,
        answers=draft.answers,
        summary=appeal_queries.summarise(kind, draft.answers, drafts.draft_photos(draft)),
        back=journey.previous_slug(kind, draft.answers, journey.CHECK),
        assisted=helping,
    )


@bp.get("/tanda-terima")
def receipt() -> Any:
    appeal_id = session.get("receipt")
    appeal = appeal_queries.get_appeal(appeal_id) if appeal_id else None
    if appeal is None:
        return redirect(url_for("tracking.track"))
    contested = appeal_queries.get_appeal(appeal.contests_id) if appeal.contests_id else None
    return render_template(
        "appeals/receipt.html",
        appeal=appeal,
        reason=REASONS[appeal.reason_code],
        contested=contested,
        news=appeal_queries.news_to(appeal),
    )

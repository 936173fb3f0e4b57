"""Numbers typed once: what a question page offers instead of an empty box.

- A number already answered on this page (Back, "Change" from check answers) is shown
  masked with a "Change" link, and kept without retyping.
- At "Who is filing", the NIK and No. KK of this browser's look-up (portal/replay, kept 30
  minutes on the server) are offered the same way. Keeping them is the same as typing
  them: the step still checks the filer through portal.policy (admit, then a miss for a
  "no"), so nothing is learnt that typing would not tell, and every limit still counts.
- The household of an usulan starts as the filer's own family card, and its head (and, for
  an heir, the recipient who died and the heir) are chosen by masked name from the people
  on the filer's card, when the filer proved it (NIK + No. KK found in DTSEN at "Who is
  filing"). The page posts a key; the server maps it to the NIK. A member's NIK is never in
  a page, and no list is shown for a card the filer did not prove (that would tell who is
  on any card).
"""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import replay
from portal.appeals.questions import QUESTIONS
from portal.core.names import mask_name
from portal.dataimport import queries as snapshots
from portal.forms import Candidate, _NumberField, masked_number
from portal.lookup.labels import HUBUNGAN_LABELS

FROM_LOOKUP = _l("from your check just now")
FROM_FILER = _l("your own family card, as entered at 'Who is filing'")
NOT_OWN_CARD = _l(
    "The people listed are on your own family card. For another household, choose "
    "'Someone else' and type the NIK of its head."
)
HEAD = "KEPALA KELUARGA"
# The question when it is answered by choosing a person (the box is then for "someone else")
CHOOSE = {q.name: q.choose for q in QUESTIONS.values() if q.choose is not None}


def _changing() -> list[str]:
    return [name for name in request.args.getlist("ubah") if name]


def offer(field: _NumberField, number: str | None, *, note: object = None) -> None:
    """Offer NUMBER as FIELD's answer, masked, unless the person chose to change it."""
    if not number:
        return
    changing = _changing()
    if field.name in changing:
        return
    field.kept = number
    field.kept_note = note
    query: dict[str, Any] = {"ubah": [*changing, field.name]}
    if request.values.get("return") == "check":
        query["return"] = "check"
    endpoint = request.endpoint or "appeals.step"
    field.change_url = url_for(endpoint, **(request.view_args or {}), **query) + f"#{field.id}"


def choose(
    field: _NumberField, people: list[Candidate], saved: str | None, default: str | None = None
) -> None:
    """Offer PEOPLE to choose from for FIELD; a saved answer that is none of them is kept."""
    if saved and all(p.number != saved for p in people):
        offer(field, saved)
        return
    if not people:
        return
    field.candidates = tuple(people)
    field.pick_legend = CHOOSE.get(field.name)
    if not field.posted:
        chosen = next((p.key for p in people if p.number == saved), None)
        field.pick = chosen or default


def number_fields(form: Any) -> list[_NumberField]:
    return [f for f in form if isinstance(f, _NumberField)]


def _filer(answers: dict[str, Any]) -> dict[str, Any]:
    return answers.get("pelapor") or {}


def _card_people(answers: dict[str, Any]) -> tuple[list[Candidate], str | None, Any]:
    """The people on the filer's proven family card (current data), the key of its head,
    and the household; nothing when the filer was not found in DTSEN."""
    filer = _filer(answers)
    snapshot = snapshots.current_snapshot()
    if not filer.get("verified") or snapshot is None:
        return [], None, None
    kk_hmac = snapshots.pseudonym(filer["no_kk"], "kk")
    people = snapshots.members(snapshot.id, kk_hmac)
    candidates = [
        Candidate(
            f"p{p.position}",
            _(
                "%(name)s, %(relation)s, born %(year)s",
                name=mask_name(p.nama),
                relation=str(HUBUNGAN_LABELS.get(p.hubungan, p.hubungan.title())),
                year=p.tanggal_lahir.year,
            ),
            p.nik,
        )
        for p in people
    ]
    head = next((f"p{p.position}" for p in people if p.hubungan == HEAD), None)
    return candidates, head, snapshots.household(snapshot.id, kk_hmac) if people else None


def _self(answers: dict[str, Any]) -> list[Candidate]:
    """The filer, for a household DTSEN does not know: "me" instead of typing it again."""
    nik = _filer(answers).get("nik")
    if not nik:
        return []
    return [
        Candidate("self", _("Me, the person filing (NIK %(nik)s)", nik=masked_number(nik)), nik)
    ]


def offer_all(slug: str, form: Any, answers: dict[str, Any]) -> None:
    """Everything the page SLUG can offer instead of typing (before validating a POST)."""
    saved = answers.get(slug) or {}
    for field in number_fields(form):
        if field.name in saved and slug not in ("rumah-tangga", "ahli-waris"):
            offer(field, saved.get(field.name))
    filer = _filer(answers)
    if slug == "pelapor" and not saved:
        looked_up = replay.recall_lookup()
        if looked_up is not None:
            offer(form.nik, looked_up.nik, note=FROM_LOOKUP)
            offer(form.no_kk, looked_up.no_kk, note=FROM_LOOKUP)
    elif slug == "rumah-tangga" and filer:
        offer(
            form.no_kk, saved.get("no_kk") or filer.get("no_kk"), note=None if saved else FROM_FILER
        )
        people, head, home = _card_people(answers)
        choose(form.head_nik, people or _self(answers), saved.get("head_nik"), head)
        if not saved and home is not None and not form.alamat.raw_data and not form.alamat.data:
            form.alamat.data = home.alamat
    elif slug == "ahli-waris":
        household = answers.get("rumah-tangga") or {}
        own = household.get("no_kk") and household.get("no_kk") == filer.get("no_kk")
        people = _card_people(answers)[0] if own else []
        choose(form.deceased_nik, people, saved.get("deceased_nik"))
        choose(form.heir_nik, people, saved.get("heir_nik"))


def inconsistent(slug: str, form: Any, answers: dict[str, Any]) -> object | None:
    """A head chosen from the filer's card for a household with another No. KK."""
    if slug != "rumah-tangga":
        return None
    field = form.head_nik
    chosen = field.pick and field.pick != "other" and field.candidates
    if chosen and form.no_kk.number != _filer(answers).get("no_kk"):
        return NOT_OWN_CARD
    return None

"""Assisted filing (issue 14, part 6): a desa operator files for a citizen at the desa office
through the public journey, after confirming the consent statement at /staf/bantu-ajukan.
Only for households of the operator's desa; NIK + No. KK proven like a citizen's; the case
is marked as assisted (who, when, which desa office, the consent), audited, counted against
the operator's limit; the receipt can be printed or the ticket sent by SMS."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal import db
from portal.appeals.models import Appeal, AppealAssist, OutboxMessage
from portal.audit.models import AuditEvent
from portal.lookup.models import AccessEvent
from tests.appeals.conftest import answers_for, walk
from tests.fixtures.factories import DESA
from tests.helpers import Client, Page

OTHER_DESA = "32.16.01.2002"  # Segarajaya, same kecamatan
START = "/staf/bantu-ajukan"


def operator_client(staff, client: Client, desa: str = DESA):
    officer = staff.create("operator_desa", [desa])
    staff.login(officer, client)
    return officer


def start(client: Client, kind: str = "sanggahan", desa: str = DESA, consent: bool = True) -> Page:
    data = {"kind": kind, "desa": desa}
    if consent:
        data["consent"] = "y"
    return client.post_form(START, data)


def send(client: Client, kind: str = "sanggahan") -> Page:
    return client.post_form(f"/{kind}/periksa", {"declaration": "y"})


def the_case(app) -> tuple[Appeal, AppealAssist | None]:
    with app.app_context():
        appeal = db.session.scalars(select(Appeal)).one()
        db.session.expunge(appeal)
        assist = db.session.get(AppealAssist, appeal.id)
        if assist is not None:
            db.session.expunge(assist)
        return appeal, assist


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_an_operator_files_for_a_citizen_of_their_desa(client: Client, app, world, staff) -> None:
    officer = operator_client(staff, client)
    page = start(client)
    assert (page.status, urlsplit(page.response.headers["Location"]).path) == (
        302,
        "/sanggahan/alasan",
    )
    assert "Filing for a citizen at the desa office" in client.page("/sanggahan/alasan")

    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    sent = send(client)

    appeal, assist = the_case(app)
    assert sent.status == 302
    assert urlsplit(sent.response.headers["Location"]).path == f"{START}/{appeal.id}"
    assert appeal.channel == "assisted"
    assert assist is not None
    assert (assist.staff_id, assist.kode_desa) == (officer.id, DESA)
    assert assist.consent_at <= assist.assisted_at
    assert "appeal.assisted_filing" in actions(app)
    with app.app_context():
        read = db.session.scalars(select(AccessEvent).where(AccessEvent.purpose == "filing")).one()
        assert (read.channel, read.actor_role, read.actor_office) == (
            "assisted",
            "operator_desa",
            DESA,
        )

    receipt = client.page(f"{START}/{appeal.id}")
    assert receipt.texts(".ticket")[0].replace("-", "") == appeal.ticket
    # the next citizen starts afresh: no assisted context, no draft of the last one
    assert "Filing for a citizen" not in client.page("/sanggahan/alasan")


def test_a_citizen_filing_on_the_website_is_not_assisted(client: Client, app, world) -> None:
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    assert send(client).status == 302
    appeal, assist = the_case(app)
    assert (appeal.channel, assist) == ("web", None)


def test_consent_is_required(client: Client, app, world, staff) -> None:
    operator_client(staff, client)
    page = start(client, consent=False)
    assert page.status == 400
    assert "Read the statement to the citizen and confirm it first." in page.error_summary_text()
    # without the consent the journey is the operator's own, never assisted
    assert "Filing for a citizen" not in client.page("/sanggahan/alasan")


@pytest.mark.parametrize("role", ["verifikator", "admin_dinsos", "pusat"])
def test_only_a_desa_operator_files_for_citizens(client: Client, staff, role: str) -> None:
    staff.login(staff.create(role), client)
    assert client.get(START).status_code == 403


def test_an_operator_cannot_start_for_another_desa(client: Client, world, staff) -> None:
    operator_client(staff, client)
    page = start(client, desa=OTHER_DESA)
    assert page.status == 400  # not one of the choices offered


def test_a_household_of_another_desa_is_refused(client: Client, app, world, staff) -> None:
    operator_client(staff, client, desa=OTHER_DESA)
    assert start(client, desa=OTHER_DESA).status == 302
    answers = answers_for(world, "INC-MAMPU")
    path = walk(client, "sanggahan", answers, stop_at="pelapor")
    page = client.post_form(path, answers["pelapor"])
    assert page.status == 303  # PRG: the page comes back with the message
    again = client.page(path)
    assert any("only file for households of your desa" in m for m in again.error_summary_text())
    with app.app_context():  # the household's data was not shown, so no read is recorded
        assert db.session.scalars(select(AccessEvent)).all() == []


def test_an_usulan_for_an_address_in_another_desa_is_refused(
    client: Client, app, world, staff
) -> None:
    operator_client(staff, client, desa=OTHER_DESA)
    start(client, kind="usulan", desa=OTHER_DESA)
    answers = answers_for(world, "EXC-TIDAK-TERDATA")  # address desa: DESA
    path = walk(client, "usulan", answers, stop_at="desa")
    client.post_form(path, answers["desa"])
    assert any(
        "only file for households of your desa" in m for m in client.page(path).error_summary_text()
    )


def test_an_usulan_for_a_household_missing_from_dtsen_in_their_desa(
    client: Client, app, world, staff
) -> None:
    operator_client(staff, client)
    start(client, kind="usulan")
    walk(client, "usulan", answers_for(world, "EXC-TIDAK-TERDATA"))
    assert send(client, "usulan").status == 302
    appeal, assist = the_case(app)
    assert (appeal.channel, appeal.kode_desa, assist is not None) == ("assisted", DESA, True)


def test_nik_and_kk_that_do_not_match_are_refused(client: Client, app, world, staff) -> None:
    operator_client(staff, client)
    start(client)
    answers = answers_for(world, "INC-MAMPU")
    path = walk(client, "sanggahan", answers, stop_at="pelapor")
    # the filer's NIK with another household's No. KK
    client.post_form(path, {"nik": world.filer_nik, "no_kk": world.other.no_kk})
    assert "We could not find this NIK with this No. KK in DTSEN" in " ".join(
        client.page(path).error_summary_text()
    )


def test_the_operators_limit(client: Client, app, world, staff) -> None:
    app.config["ASSISTED_FILING_LIMIT"] = "1 per day"
    operator_client(staff, client)
    start(client)
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    assert send(client).status == 302
    start(client)
    walk(client, "sanggahan", answers_for(world, "EXC-DESIL-SALAH", filer=world.third))
    assert send(client).status == 429


def post_sms(client: Client, appeal_id: int, phone: str) -> Page:
    token = client.csrf_token(START)  # any staff page's token
    return Page(client.post(f"{START}/{appeal_id}/sms", data={"csrf_token": token, "phone": phone}))


def filed_by(client: Client, app, world, staff) -> int:
    operator_client(staff, client)
    start(client)
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    send(client)
    return the_case(app)[0].id


def test_the_ticket_is_queued_by_sms(client: Client, app, world, staff) -> None:
    appeal_id = filed_by(client, app, world, staff)
    page = post_sms(client, appeal_id, "0813-1111-2222")
    assert page.status == 302
    with app.app_context():
        messages = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == "+6281311112222")
        ).all()
        assert [(m.channel, m.payload["status"]) for m in messages] == [("sms", "diterima")]
    assert "appeal.assisted_ticket_sms" in actions(app)


def test_a_bad_number_is_refused_and_nothing_is_queued(client: Client, app, world, staff) -> None:
    appeal_id = filed_by(client, app, world, staff)
    page = post_sms(client, appeal_id, "12345")
    assert page.status == 400
    assert "Enter a mobile number starting with 08 or +628." in page.error_summary_text()
    with app.app_context():
        assert not db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient.not_like("+62812%"))
        ).all()


def test_another_operator_of_the_desa_cannot_open_the_receipt(
    client: Client, app, world, staff
) -> None:
    appeal_id = filed_by(client, app, world, staff)
    other = app.test_client()
    staff.login(staff.create("operator_desa", [DESA]), other)
    assert other.get(f"{START}/{appeal_id}").status_code == 404
    assert post_sms(other, appeal_id, "0813-1111-2222").status == 404


def test_the_verifikator_sees_the_assistance_other_operators_do_not(
    client: Client, app, world, staff
) -> None:
    appeal_id = filed_by(client, app, world, staff)
    verifikator = staff.login(staff.create("verifikator"), app.test_client())
    case = verifikator.get(f"/staf/kasus/{appeal_id}").get_data(as_text=True)
    assert "Filed at the desa office" in case or "Diajukan di kantor desa" in case
    operator = staff.login(staff.create("operator_desa", [DESA]), app.test_client())
    seen = operator.get(f"/staf/kasus/{appeal_id}")
    assert "Filed at the desa office" not in seen.get_data(as_text=True)
    assert "Diajukan di kantor desa" not in seen.get_data(as_text=True)


def test_stopping_ends_filing_for_the_citizen(client: Client, app, world, staff) -> None:
    operator_client(staff, client)
    start(client)
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"), stop_at="rincian")
    page = Page(client.post(f"{START}/selesai", data={"csrf_token": client.csrf_token(START)}))
    assert page.status == 302
    # the citizen's answers are gone from this browser, and the journey is not assisted
    assert urlsplit(client.get("/sanggahan/rincian").headers["Location"]).path == (
        "/sanggahan/alasan"
    )
    assert "Filing for a citizen" not in client.page("/sanggahan/alasan")


def test_a_context_that_ended_never_goes_on_as_the_operators_own(
    client: Client, app, world, staff
) -> None:
    operator_client(staff, client)
    start(client)
    walk(client, "sanggahan", answers_for(world, "INC-MAMPU"))
    with client.session_transaction() as session:
        session["assist"] = {**session["assist"], "until": "2000-01-01T00:00:00+00:00"}
    token = client.csrf_token(START)
    page = Page(client.post("/sanggahan/periksa", data={"csrf_token": token, "declaration": "y"}))
    assert (page.status, urlsplit(page.response.headers["Location"]).path) == (302, START)
    with app.app_context():
        assert db.session.scalars(select(Appeal)).all() == []


def test_the_operators_limits_with_no_session_send_to_sign_in(limited_client: Client) -> None:
    # the limiter asks for its key before the staff gate: no session is no error
    for path in (START, f"{START}/1/sms"):
        response = limited_client.post(path, data={})
        assert response.status_code in (302, 400), (path, response.status_code)

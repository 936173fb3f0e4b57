from tests.helpers import Client


def test_an_enrolled_officer_signs_in_and_sees_the_queue(staff) -> None:
    officer = staff.create("verifikator")
    client: Client = staff.login(officer)
    page = client.page("/staf/")
    assert page.h1

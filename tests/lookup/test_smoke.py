from tests.helpers import Client


def test_home_page_shows_the_lookup_form_in_indonesian(client: Client) -> None:
    page = client.page("/")
    assert page.lang == "id"
    assert page.soup.find("input", attrs={"name": "nik"})


def test_found_household_shows_desil_and_masked_names(client: Client, factory) -> None:
    house = factory.household(desil=2)
    factory.publish("2026Q3", [house])
    data = {"nik": house.members[0].nik, "no_kk": house.no_kk}
    page = client.post_form("/", data, status=200, follow_redirects=True)
    assert page.path == "/hasil"
    assert "B*** S******" in page
    assert "BUDI" not in page.text

"""Bad input to the web pages gets a 4xx with a clear message, never a 500: NUL characters
in addresses and forms, numbers no database column holds, dates at the calendar's ends."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("path", ["/verify/%00", "/verify/abc%00def", "/login?next=%00",
                                  "/courses/?q=a%00b"])
def test_a_nul_character_in_the_address_is_400(client, path):
    response = client.get(path)
    assert response.status_code == 400
    assert "NUL" in response.get_data(as_text=True)


def test_a_nul_character_in_a_form_is_400(client):
    response = client.post("/login", data={"identifier": "a\x00b", "password": "x"})
    assert response.status_code == 400


def test_an_id_beyond_any_database_integer_is_404(client, login_as):
    login_as("hr")
    assert client.get("/community/t/99999999999999999999999").status_code == 404
    assert client.get("/community/t/2147483648").status_code == 404


def test_a_page_number_beyond_any_database_integer_is_the_first_page(client, login_as):
    login_as("admin")
    response = client.get("/admin/mail/?page=99999999999999999999999")
    assert response.status_code in (200, 404)


@pytest.mark.parametrize("query", ["unit=99999999999999999999", "unit=%C2%B2",
                                   "from=0001-01-01", "to=9999-12-31",
                                   "from=0001-01-01&to=9999-12-31"])
def test_report_filters_at_the_ends_are_400(client, login_as, query):
    login_as("hr")
    response = client.get(f"/reports/?{query}")
    assert response.status_code == 400, response.status_code

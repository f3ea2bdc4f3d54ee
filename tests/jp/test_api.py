"""``GET /api/v1/employees/<nip>/jp`` and the statement pages: the same answer as the
service, inside the HR scope."""

from __future__ import annotations

from lms.db import get_session
from tests.jp.conftest import form, sign_in


def test_statement_api_and_pages_follow_the_scope(client, org):
    from lms.reports.scope import set_scope

    sign_in(client, org["a1"])
    response = client.post("/jp/submissions/new", data=form(),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    set_scope(org["hr"], org["dinas_a"])
    get_session().commit()
    sign_in(client, org["hr"])
    answer = client.get(f"/api/v1/employees/{org['a1'].nip}/jp").get_json()
    assert answer["jp"] == 0 and answer["target"] == 20 and not answer["met"]
    assert [p["title"] for p in answer["pending"]] == ["Seminar Nasional Transformasi Digital"]
    assert answer["pending"][0]["status"] == "pending" and answer["pending_jp"] == 8
    # Outside the scope (Dinas B): refused, on the API, the page and the PDF.
    nip = org["b1"].nip
    assert client.get(f"/api/v1/employees/{nip}/jp").status_code == 403
    assert client.get(f"/jp/statement/{nip}").status_code == 403
    assert client.get(f"/jp/statement/{nip}.pdf").status_code == 403
    assert client.get("/api/v1/employees/000/jp").status_code == 404
    assert client.get(f"/api/v1/employees/{org['a1'].nip}/jp?year=20x6").status_code == 400
    assert client.get(f"/jp/statement/{org['a1'].nip}?year=abc").status_code == 400
    # A colleague sees nobody else's statement; the supervisor sees the team's.
    sign_in(client, org["a2"])
    assert client.get(f"/jp/statement/{org['a1'].nip}").status_code == 403
    sign_in(client, org["head"])
    assert client.get(f"/jp/statement/{org['a1'].nip}").status_code == 200
    # HR pages are for HR only.
    for url in ("/jp/hr", "/jp/hr/mix", "/jp/hr/conversion", "/jp/hr/siasn"):
        assert client.get(url).status_code == 403, url

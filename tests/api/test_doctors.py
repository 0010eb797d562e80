"""/doctors over HTTP: add, list filters, show, activate and deactivate."""

from __future__ import annotations

from tests.api.conftest import error_of

HOUSE = {"full_name": "Gregory House", "specialization": "Diagnostics"}


def test_add_list_and_filter(api):
    house = api("POST", "/doctors", 201, json=HOUSE).json()
    assert house["is_active"] is True
    api(
        "POST", "/doctors", 201, json={"full_name": "Lisa Cuddy", "specialization": "Endocrinology", "is_active": False}
    )
    assert api("GET", "/doctors").headers["X-Total-Count"] == "2"
    assert [d["full_name"] for d in api("GET", "/doctors?active=false").json()] == ["Lisa Cuddy"]
    assert [d["id"] for d in api("GET", "/doctors?active=true&specialization=DIAG").json()] == [house["id"]]
    assert error_of(api("GET", "/doctors?active=maybe", 400))["details"]["field"] == "active"


def test_list_searches_the_name_in_any_order(api):
    api("POST", "/doctors", 201, json=HOUSE)
    api("POST", "/doctors", 201, json={"full_name": "Lisa Cuddy", "specialization": "Endocrinology"})
    assert [d["id"] for d in api("GET", "/doctors", params={"search": "house GREGORY"}).json()] == [1]
    assert [d["id"] for d in api("GET", "/doctors", params={"search": "cuddy", "active": "false"}).json()] == []
    assert api("GET", "/doctors", params={"search": "gregory cuddy"}).headers["X-Total-Count"] == "0"


def test_deactivate_and_activate_return_the_record(api):
    house = api("POST", "/doctors", 201, json=HOUSE).json()
    assert api("POST", f"/doctors/{house['id']}/deactivate").json()["is_active"] is False
    assert api("GET", f"/doctors/{house['id']}").json()["is_active"] is False
    assert api("POST", f"/doctors/{house['id']}/activate").json()["is_active"] is True


def test_unknown_doctors_are_404_and_invalid_names_400(api):
    for path in ("/doctors/5", "/doctors/5/activate", "/doctors/5/deactivate"):
        method = "GET" if path == "/doctors/5" else "POST"
        assert error_of(api(method, path, 404))["message"] == "doctor 5 does not exist"
    error = error_of(api("POST", "/doctors", 400, json={**HOUSE, "specialization": ""}))
    assert error["details"]["field"] == "specialization"

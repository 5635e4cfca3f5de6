"""Binding check (DOMAIN §3) and its lockouts, and the enrolment lookup."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.sandbox.conftest import ADMIN, API, assert_problem

GOOD = {"massar_code": "Z990000001", "birth_date": "2018-09-14", "phone": "+212600000001"}


def verify(client: TestClient, **changes: str):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/students/verify", json={**GOOD, **changes}, headers=API)


def test_match_with_iso_or_dtmf_birth_date(client: TestClient) -> None:
    first = verify(client)
    assert first.status_code == 200
    assert first.json()["match"] is True
    assert first.json()["student_id"].startswith("stu_")
    assert verify(client, birth_date="14092018").json() == first.json()


def test_the_nine_digits_alone_match_among_the_phones_own_children(client: TestClient) -> None:
    """A keypad has no letters (voice DTMF): the digits are looked for among this phone's
    children only, so they prove as much as the full code."""
    digits = verify(client, massar_code="990000001")
    assert digits.status_code == 200
    assert digits.json() == verify(client).json()
    assert digits.json()["match"] is True
    # Adam's digits from a phone that is not his guardian's: no match.
    other = verify(client, massar_code="990000003", birth_date="2012-03-14")
    assert other.json() == {"match": False, "student_id": None}


def test_every_mismatch_gets_the_same_answer(client: TestClient) -> None:
    answers = [
        verify(client, birth_date="2018-09-15", phone="+212600000002"),  # wrong DOB
        verify(
            client, massar_code="Z990000003", phone="+212700000001"
        ),  # code of a child not linked to the phone
        verify(client, massar_code="Z990009999", phone="+212600000099"),  # unknown code
    ]
    assert {(a.status_code, a.text) for a in answers} == {
        (200, '{"match":false,"student_id":null}')
    }


def test_three_failures_lock_the_phone_for_15_minutes(client: TestClient) -> None:
    for _ in range(3):
        assert verify(client, birth_date="2018-01-01").json()["match"] is False
    locked = verify(client)  # even the right answer is refused while locked
    assert_problem(locked, 429, "verification-locked")
    assert 0 < int(locked.headers["retry-after"]) <= 900
    client.post("/_sandbox/clock", json={"advance_seconds": 16 * 60}, headers=ADMIN)
    assert verify(client).json()["match"] is True


def test_five_failures_in_a_day_lock_for_24_hours(client: TestClient) -> None:
    for _ in range(3):
        verify(client, birth_date="2018-01-01")
    client.post("/_sandbox/clock", json={"advance_seconds": 16 * 60}, headers=ADMIN)
    for _ in range(2):
        verify(client, birth_date="2018-01-01")
    locked = verify(client)
    assert_problem(locked, 429, "verification-locked")
    assert int(locked.headers["retry-after"]) > 23 * 3600


def test_ten_failures_on_one_code_lock_the_code_from_any_phone(client: TestClient) -> None:
    phones = [f"+2126111111{i:02d}" for i in range(10)]
    for phone in phones:
        assert verify(client, phone=phone, birth_date="2000-01-01").json()["match"] is False
    assert_problem(verify(client), 429, "verification-locked")
    other = verify(client, massar_code="Z990000002", birth_date="2008-05-02")
    assert other.json()["match"] is True


def test_enrolment_lookup_wrong_birth_date_is_same_404_as_unknown_number(
    client: TestClient,
) -> None:
    wrong = client.post(
        "/api/v1/enrolment-applications/lookup",
        json={"number": "PRE-2026-0000001", "child_birth_date": "2020-06-02"},
        headers=API,
    )
    unknown = client.post(
        "/api/v1/enrolment-applications/lookup",
        json={"number": "PRE-2026-0000999", "child_birth_date": "2020-06-01"},
        headers=API,
    )
    a = assert_problem(wrong, 404, "application-not-found")
    b = assert_problem(unknown, 404, "application-not-found")
    assert (a["title"], a["detail"]) == (b["title"], b["detail"])
    ok = client.post(
        "/api/v1/enrolment-applications/lookup",
        json={"number": "PRE-2026-0000001", "child_birth_date": "2020-06-01"},
        headers=API,
    )
    assert ok.json()["status"] == "under_review"


def test_enrolment_lookup_locks_a_number_after_five_failures(client: TestClient) -> None:
    body = {"number": "PRE-2026-0000002", "child_birth_date": "2020-01-01"}
    for _ in range(5):
        assert (
            client.post("/api/v1/enrolment-applications/lookup", json=body, headers=API).status_code
            == 404
        )
    right = {"number": "PRE-2026-0000002", "child_birth_date": "2020-02-20"}
    assert_problem(
        client.post("/api/v1/enrolment-applications/lookup", json=right, headers=API),
        429,
        "verification-locked",
    )


def test_enrolment_lookup_rejects_malformed_dates(client: TestClient) -> None:
    r = client.post(
        "/api/v1/enrolment-applications/lookup",
        json={"number": "PRE-2026-0000001", "child_birth_date": "01/06/2020"},
        headers=API,
    )
    assert_problem(r, 400, "invalid-request")

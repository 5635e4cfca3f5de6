"""Nothing about a student reaches a phone that is not linked to it and has not bound it.

Hypothesis drives random inputs and random walks through the menus from three phones (two
children, one child, none) and checks every reply against the bindings actually stored.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.deps import runtime_of
from tests.gateway.conftest import SmsPhone, UssdPhone

PHONES = ["+212600000001", "+212600000002", "+212600000099"]
INPUTS = [
    "", "0", "1", "2", "3", "4", "5", "9", "١", "ABS", "NOTES", "notes", "غياب", "نقط",
    "INSCRIPTION", "AIDE", "AR", "FR", "menu", "Z990000001", "Z990000002", "Z990000003",
    "990000003", "14092018", "02052008", "14032012", "Z990000001 14092018",
    "Z990000003 14032012", "PRE-2026-0000001 01062020", "PRE-2026-0000002", "20022020",
    "*#", "😀", "abs غياب", "x" * 300,
]  # fmt: skip


@pytest.fixture
def children_of(sandbox_app: object) -> dict[str, dict[str, set[str]]]:
    """phone -> student id -> that child's first names (both scripts), from the backend."""
    out: dict[str, dict[str, set[str]]] = {}
    with TestClient(sandbox_app) as sandbox:  # type: ignore[arg-type]
        for phone in PHONES:
            found = sandbox.post(
                "/api/v1/guardians/lookup",
                json={"phone": phone},
                headers={"Authorization": "Bearer sandbox-token"},
            )
            students = found.json()["students"] if found.status_code == 200 else []
            out[phone] = {s["id"]: {s["first_name_fr"], s["first_name_ar"]} for s in students}
    return out


def allowed_names(client: TestClient, phone: str, children: dict[str, set[str]]) -> set[str]:
    bindings = runtime_of(client.app).turns.dialog.bindings
    bound = client.portal.call(bindings.bound_since, phone)  # type: ignore[union-attr]
    return {name for sid, names in children.items() if sid in bound for name in names}


def check(
    reply: str, phone: str, client: TestClient, everyone: dict[str, dict[str, set[str]]]
) -> None:
    allowed = allowed_names(client, phone, everyone[phone])
    others = {n for p, kids in everyone.items() for names in kids.values() for n in names}
    for name in others - allowed:
        assert name not in reply, f"{name!r} shown to {phone}: {reply!r}"
    for secret in ("Z990000001", "Z990000002", "Z990000003", "14092018", "02052008"):
        assert secret not in reply, f"echoed {secret!r} to {phone}"


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    phone=st.sampled_from(PHONES),
    channel=st.sampled_from(["ussd", "sms"]),
    inputs=st.lists(st.one_of(st.sampled_from(INPUTS), st.text(max_size=40)), max_size=12),
)
def test_replies_name_only_linked_and_bound_children(
    gateway: TestClient,
    children_of: dict[str, dict[str, set[str]]],
    phone: str,
    channel: str,
    inputs: list[str],
) -> None:
    if channel == "ussd":
        handset = UssdPhone(gateway, phone)
        check(handset.dial(), phone, gateway, children_of)
        for text in inputs:
            reply = handset.press(text.replace("*", "").strip() or "0")
            check(reply, phone, gateway, children_of)
            if reply.startswith("END"):
                check(handset.dial(), phone, gateway, children_of)
    else:
        sms = SmsPhone(gateway, phone)
        for text in inputs:
            check(sms.send(text), phone, gateway, children_of)


def test_a_right_code_and_birth_date_of_someone_elses_child_binds_nothing(
    gateway: TestClient, children_of: dict[str, dict[str, set[str]]]
) -> None:
    stranger = SmsPhone(gateway, "+212600000002")
    stranger.send("ABS")
    reply = stranger.send("Z990000001 14092018")  # Youssef's real code and birth date
    assert "Youssef" not in reply
    assert "يوسف" not in reply
    bindings = runtime_of(gateway.app).turns.dialog.bindings
    assert gateway.portal.call(bindings.bound_since, "+212600000002") == {}  # type: ignore[union-attr]

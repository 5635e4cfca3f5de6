"""Issue 26 items 1 and 8 through the consumer, against the sandbox: an excuse refused later
sends a short correction with the new total; alerts held overnight and merged keep the latest
total; a guardian whose link says `may_notify: false` is told nothing about that child (now, or
in the morning), the co-guardian still is; a year result is alerted in each guardian's
language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.alerts.conftest import ADMIN, KHADIJA, RACHID, World
from tests.alerts.test_consumer import drain

pytestmark = pytest.mark.anyio

TOTAL_FR = re.compile(r"(\d+) absences? non justifiées? \((\d+(?:,\d+)?) h\) depuis septembre")


async def year_totals(world: World, gid: str, student: str) -> tuple[int, str]:
    reply = await world.http.get(
        f"/api/v1/students/{student}/absences",
        headers={"Authorization": "Bearer sandbox-token", "X-On-Behalf-Of": gid},
    )
    totals = reply.json()["totals"]
    return totals["unjustified_count"], f"{totals['unjustified_hours']:g}".replace(".", ",")


def said(text: str) -> tuple[int, str]:
    found = TOTAL_FR.search(text)
    assert found is not None, text
    return int(found.group(1)), found.group(2)


async def rachids(world: World) -> tuple[str, dict[str, str]]:
    """Rachid's guardian id, and his children's ids by first name."""
    reply = await world.http.post(
        "/api/v1/guardians/lookup",
        json={"phone": RACHID},
        headers={"Authorization": "Bearer sandbox-token"},
    )
    body = reply.json()
    return body["guardian"]["id"], {s["first_name_fr"]: s["id"] for s in body["students"]}


async def rachid(world: World) -> str:
    return next(a["text"] for a in reversed(await world.queued()) if a["to"] == RACHID)


async def test_an_excuse_refused_later_sends_a_correction_with_the_new_total(
    world: World,
) -> None:
    consumer = world.consumer()
    await drain(consumer)
    gid, kids = await rachids(world)
    body = {"student_id": kids["Salma"], "date": "2026-05-20", "hours": 2, "status": "justified"}
    made = await world.http.post("/_sandbox/absences", json=body, headers=ADMIN)
    await drain(consumer)
    assert await world.queued() == []  # justified: no alert
    patched = await world.http.patch(
        f"/_sandbox/absences/{made.json()['id']}", json={"status": "rejected"}, headers=ADMIN
    )
    assert patched.status_code == 200
    await drain(consumer)
    text = await rachid(world)
    assert text.startswith("Massar: excuse refusée, l'absence de Salma le 20/05")
    assert said(text) == await year_totals(world, gid, kids["Salma"])
    # Justified again: good news is no alert (and the correction is not sent twice).
    await world.http.patch(
        f"/_sandbox/absences/{made.json()['id']}", json={"status": "justified"}, headers=ADMIN
    )
    await drain(consumer)
    assert len([a for a in await world.queued() if a["to"] == RACHID]) == 1


async def test_absences_held_overnight_and_merged_keep_the_latest_total(world: World) -> None:
    world.clock[0] = datetime(2026, 5, 20, 21, 30, tzinfo=UTC)  # 22:30 in Casablanca
    consumer = world.consumer(quiet="21:00-07:00")
    await drain(consumer)
    gid, kids = await rachids(world)
    await world.absence(kids["Salma"], start="08:30", day="2026-05-19")
    await world.absence(kids["Salma"], start="14:30", day="2026-05-20")
    await drain(consumer)
    world.clock[0] = datetime(2026, 5, 21, 6, 1, tzinfo=UTC)
    await consumer.release_due()
    text = await rachid(world)
    assert "19/05 08:30-10:30, 20/05 14:30-16:30" in text
    assert said(text) == await year_totals(world, gid, kids["Salma"])  # after both
    assert text.count("depuis septembre") == 1


async def link(world: World, gid: str, student: str, *, may_notify: bool) -> None:
    body = {"guardian_id": gid, "student_id": student, "may_notify": may_notify}
    reply = await world.http.put("/_sandbox/guardian-links", json=body, headers=ADMIN)
    assert reply.status_code == 200, reply.text


async def test_a_guardian_the_school_forbids_notices_to_is_told_nothing_of_that_child(
    world: World,
) -> None:
    consumer = world.consumer()
    await drain(consumer)
    rachid_id, kids = await rachids(world)
    await link(world, rachid_id, kids["Salma"], may_notify=False)
    await world.absence(kids["Salma"], start="08:30")
    await drain(consumer)
    assert [a["to"] for a in await world.queued()] == [KHADIJA]  # the co-guardian only
    await world.absence(kids["Youssef"], start="08:30")  # his other child: still told
    await drain(consumer)
    assert sorted(a["to"] for a in await world.queued()) == [KHADIJA, KHADIJA, RACHID]


async def test_a_link_closed_during_the_night_holds_back_the_morning_alert(
    world: World,
) -> None:
    world.clock[0] = datetime(2026, 5, 20, 21, 30, tzinfo=UTC)
    consumer = world.consumer(quiet="21:00-07:00")
    await drain(consumer)
    rachid_id, kids = await rachids(world)
    await world.absence(kids["Salma"], start="08:30")
    await drain(consumer)
    await link(world, rachid_id, kids["Salma"], may_notify=False)  # decided in the night
    world.clock[0] = datetime(2026, 5, 21, 6, 1, tzinfo=UTC)
    assert await consumer.release_due() == 1
    assert [a["to"] for a in await world.queued()] == [KHADIJA]


async def test_a_year_result_is_alerted_in_each_guardians_language(world: World) -> None:
    consumer = world.consumer()
    await drain(consumer)
    _, kids = await rachids(world)
    body = {"school_year": "2025-2026", "student_id": kids["Youssef"], "decision": "promoted"}
    reply = await world.http.post("/_sandbox/results/publish", json=body, headers=ADMIN)
    assert reply.status_code == 200, reply.text
    await drain(consumer)
    alerts = {a["to"]: a["text"] for a in await world.queued()}
    assert alerts[RACHID].startswith(
        "Massar: résultat de l'année 2025-2026 de Youssef: passage au niveau supérieur."
    )
    assert "الانتقال إلى المستوى الموالي" in alerts[KHADIJA]
    assert "يوسف" in alerts[KHADIJA]
    # Published again: nothing new, nothing sent twice.
    await world.http.post("/_sandbox/results/publish", json=body, headers=ADMIN)
    await drain(consumer)
    assert len(await world.queued()) == 2


async def test_a_year_result_goes_to_phones_that_want_marks_only(world: World) -> None:
    await world.preferences.set_kinds(RACHID, ["absence"], digest=False)
    consumer = world.consumer()
    await drain(consumer)
    _, kids = await rachids(world)
    body = {"school_year": "2025-2026", "student_id": kids["Youssef"], "decision": "repeat"}
    await world.http.post("/_sandbox/results/publish", json=body, headers=ADMIN)
    await drain(consumer)
    assert [a["to"] for a in await world.queued()] == [KHADIJA]  # Rachid took absences only

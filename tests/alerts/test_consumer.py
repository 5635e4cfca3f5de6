"""The change-feed consumer against the sandbox: who gets what, once; restarts lose and
repeat nothing; quiet hours hold and release in the morning; a class's marks make one message
per phone; the cache forgets a changed student; one consumer holds the lease."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pydantic
import pytest

from gateway.state.alerts.store import AlertStore
from tests.alerts.conftest import ADMIN, KHADIJA, RACHID, World

pytestmark = pytest.mark.anyio


async def drain(consumer: Any) -> None:
    """Read the feed to its head (as `run` would, without the lease or the pauses)."""
    while await consumer.step():
        pass


async def test_an_unjustified_absence_alerts_each_guardian_phone_once(world: World) -> None:
    consumer = world.consumer()
    await drain(consumer)  # the cursor starts at the head: history is not alerted
    assert await world.queued() == []
    _, kids = await world.children()
    await world.absence(kids[0], start="08:30")
    await drain(consumer)
    await drain(consumer)  # read again: nothing more
    alerts = await world.queued()
    assert sorted(a["to"] for a in alerts) == [KHADIJA, RACHID]
    khadija = next(a for a in alerts if a["to"] == KHADIJA)
    assert "08:30" in khadija["text"]
    assert "10:30" in khadija["text"]
    assert "20/05" in khadija["text"]
    assert "STOP" in khadija["text"] or "توقف" in khadija["text"]  # a phone's first alert
    await world.absence(kids[0], start="14:30")
    await drain(consumer)
    second = [a for a in await world.queued() if a["to"] == KHADIJA][-1]
    assert "توقف" not in second["text"]  # how to stop is said once


async def test_a_justified_absence_or_a_lateness_sends_nothing(world: World) -> None:
    consumer = world.consumer()
    await drain(consumer)
    _, kids = await world.children()
    for body in (
        {
            "student_id": kids[0],
            "date": "2026-05-20",
            "start_time": "08:30",
            "hours": 1,
            "status": "justified",
            "reason_code": "medical",
        },
        {
            "student_id": kids[0],
            "date": "2026-05-20",
            "start_time": "09:30",
            "hours": 1,
            "kind": "late",
        },
    ):
        assert (
            await world.http.post("/_sandbox/absences", json=body, headers=ADMIN)
        ).status_code == 201
    await drain(consumer)
    assert await world.queued() == []


async def test_an_opted_out_phone_gets_no_alert_and_its_coguardian_still_does(
    world: World,
) -> None:
    consumer = world.consumer()
    await drain(consumer)
    await world.preferences.opt_out(KHADIJA)
    _, kids = await world.children()
    await world.absence(kids[1])
    await drain(consumer)
    assert [a["to"] for a in await world.queued()] == [RACHID]
    await world.preferences.opt_in(KHADIJA)
    await world.absence(kids[1], start="10:30")
    await drain(consumer)
    assert Counter(a["to"] for a in await world.queued()) == {RACHID: 2, KHADIJA: 1}


class Crash(Exception):
    """The consumer dies at this point."""


class CrashingStore(AlertStore):
    """Dies once, after its batch's messages were queued and before the cursor moves."""

    def __init__(self, *args: Any, after: int, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.left = after

    async def advance(self, cursor: str, holds: Any, at: datetime) -> None:
        if self.left == 0:
            self.left = -1
            raise Crash
        self.left -= 1
        await super().advance(cursor, holds, at)


async def test_a_consumer_killed_mid_feed_and_restarted_loses_and_repeats_nothing(
    world: World,
) -> None:
    first = world.consumer(batch=7)
    await drain(first)  # at the head
    _, kids = await world.children()
    seeded = await world.http.get(
        "/api/v1/changes/head", headers={"Authorization": "Bearer sandbox-token"}
    )
    start = seeded.json()["cursor"]
    for i in range(24):  # two guardians each: 48 alerts, in batches of 7 events
        await world.absence(kids[i % 2], start=f"{8 + i % 9:02d}:30", day=f"2026-05-{1 + i:02d}")
    crashing = CrashingStore(world.engine, key_secret=world.key, after=2)
    dying = world.consumer(batch=7, store=crashing)
    with pytest.raises(Crash):
        await drain(dying)  # two batches done, the third queued but its cursor not kept
    again = world.consumer(batch=7)  # a new process, the same database and Redis
    await drain(again)
    alerts = await world.queued()
    keys = Counter(a["key"] for a in alerts)
    assert max(keys.values()) == 1  # nothing queued twice
    assert len(alerts) == 48  # nothing lost
    assert Counter(a["to"] for a in alerts) == {KHADIJA: 24, RACHID: 24}
    assert await AlertStore(world.engine, key_secret=world.key).cursor() != start


async def test_quiet_hours_hold_alerts_until_morning_merged_per_child_in_order(
    world: World,
) -> None:
    world.clock[0] = datetime(2026, 5, 20, 21, 30, tzinfo=UTC)  # 22:30 in Casablanca
    consumer = world.consumer(quiet="21:00-07:00")
    await drain(consumer)
    _, kids = await world.children()
    await world.absence(kids[0], start="08:30", day="2026-05-19")
    await world.absence(kids[0], start="14:30", day="2026-05-20")
    await world.absence(kids[1], start="10:30", day="2026-05-20")
    await drain(consumer)
    assert await world.queued() == []  # nothing at night
    assert await consumer.release_due() == 0  # still night
    await world.preferences.opt_out(RACHID)  # in the night: honoured in the morning
    world.clock[0] = datetime(2026, 5, 21, 6, 1, tzinfo=UTC)  # 07:01 in Casablanca
    assert await consumer.release_due() == 2
    alerts = await world.queued()
    assert [a["to"] for a in alerts] == [KHADIJA, KHADIJA]  # one per child, Rachid none
    first_child = alerts[0]["text"]
    assert "19/05" in first_child
    assert "20/05" in first_child  # two absences of one child: one message, in feed order
    assert first_child.index("19/05") < first_child.index("20/05")
    assert await consumer.release_due() == 0  # released once
    assert await AlertStore(world.engine, key_secret=world.key).held_count() == 0


async def test_a_published_class_makes_one_message_per_phone_and_pupil_not_per_event(
    world: World,
) -> None:
    consumer = world.consumer(batch=50)
    await drain(consumer)
    _, kids = await world.children()
    history = await world.http.get(
        "/api/v1/changes", params={"limit": 200}, headers={"Authorization": "Bearer sandbox-token"}
    )
    candidates = [kids[0], kids[1]] + [e["student_id"] for e in history.json()["items"]]
    published = 0
    for student in dict.fromkeys(c for c in candidates if c):  # a class of several pupils
        reply = await world.http.post(
            "/_sandbox/grades/publish",
            json={
                "student_id": student,
                "school_year": "2025-2026",
                "semester": 2,
                "scope": "class",
            },
            headers=ADMIN,
        )
        assert reply.status_code == 200, reply.text
        published = reply.json()["published"]
        if published > 1:
            break
    assert published > 1
    await drain(consumer)
    alerts = await world.queued()
    # Each pupil made two events (grade.published, semester_result.published): one message
    # per guardian phone and pupil, keyed by the pupil's semester.
    pairs = Counter((a["key"].split(":")[2], a["to"]) for a in alerts if ":marks:" in a["key"])
    assert len(pairs) == len(alerts)
    assert max(pairs.values()) == 1
    assert len({student for student, _ in pairs}) >= published
    assert all("NOTES" in a["text"] or "نقط" in a["text"] for a in alerts)


async def test_a_change_drops_the_cached_answers_about_its_student(world: World) -> None:
    consumer = world.consumer()
    await drain(consumer)
    _, kids = await world.children()
    adapter = pydantic.TypeAdapter(dict[str, int])
    await world.cache.put("absences", [kids[0], "gdn_x", "", "", "", ""], adapter, {"n": 1})
    await world.cache.put("grades", [kids[1], "2025-2026", "1", "gdn_x"], adapter, {"n": 2})
    await world.absence(kids[0])
    await drain(consumer)
    assert await world.cache.get("absences", [kids[0], "gdn_x", "", "", "", ""], adapter) is None
    kept = await world.cache.get("grades", [kids[1], "2025-2026", "1", "gdn_x"], adapter)
    assert kept is not None  # the other child did not change


async def test_one_consumer_holds_the_lease_and_another_takes_over_when_released(
    world: World,
) -> None:
    a, b = world.consumer(), world.consumer()
    assert await a.lease.hold()
    assert not await b.lease.hold()
    assert await a.lease.hold()  # renewed
    await a.lease.release()
    assert await b.lease.hold()


def test_clock_is_utc_aware() -> None:  # the fixtures' clock: quiet hours need aware times
    assert datetime(2026, 5, 20, tzinfo=UTC).utcoffset() is not None


async def test_a_daily_digest_is_one_message_for_all_children_at_its_hour(world: World) -> None:
    consumer = world.consumer()
    await drain(consumer)
    await world.preferences.set_kinds(KHADIJA, ["absence", "marks", "enrolment"], digest=True)
    _, kids = await world.children()
    await world.absence(kids[0], start="08:30")
    await world.absence(kids[1], start="10:30")
    await drain(consumer)
    assert [a["to"] for a in await world.queued()] == [RACHID, RACHID]  # he asked for no digest
    assert await consumer.release_due() == 0  # 11:00 in Casablanca: not yet
    world.clock[0] = datetime(2026, 5, 20, 17, 1, tzinfo=UTC)  # 18:01 in Casablanca
    assert await consumer.release_due() == 1
    digest = [a for a in await world.queued() if a["to"] == KHADIJA]
    assert len(digest) == 1
    lines = digest[0]["text"].splitlines()
    assert len(lines) == 2  # one line per child
    assert "08:30" in lines[0]
    assert "10:30" in lines[1]

"""The weekly summary (issue #26 item 2) against the sandbox, on the sandbox's clock
(`POST /_sandbox/clock`) and the consumer's injected one: it goes out at its slot, once per
child and week, computed from the backend then (the total by the ABS answer's rule); a week
with nothing to report sends nothing; quiet hours move a slot set at night to the morning;
"absences only" and "marks only" shape it; a phone that stopped gets none."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from gateway.alerts.consumer import AlertsConsumer
from gateway.alerts.weekly import WEEK_TOTAL, Weekly, week_key
from gateway.dialogs.absences import absence_figures
from gateway.dialogs.conversation import ABSENCES_READ
from gateway.dialogs.pages import gsm_fold
from gateway.i18n import translator
from gateway.state.alerts.store import AlertStore
from tests.alerts.conftest import ADMIN, KHADIJA, RACHID, World

pytestmark = pytest.mark.anyio

WEDNESDAY = datetime(2026, 5, 20, 10, 0, tzinfo=UTC)  # 11:00 in Casablanca
FRIDAY_BEFORE = datetime(2026, 5, 22, 16, 59, tzinfo=UTC)  # 17:59 in Casablanca
FRIDAY_AFTER = datetime(2026, 5, 22, 17, 1, tzinfo=UTC)  # 18:01: the default slot has passed


async def drain(consumer: Any) -> None:
    while await consumer.step():
        pass


async def at(world: World, moment: datetime) -> None:
    """Both clocks to `moment`: the consumer's (injected) and the sandbox's (its `/meta`)."""
    world.clock[0] = moment
    reply = await world.http.post(
        "/_sandbox/clock", json={"now": moment.isoformat()}, headers=ADMIN
    )
    assert reply.status_code == 200, reply.text


async def weekly_world(
    world: World, start: datetime = WEDNESDAY, **kw: Any
) -> tuple[AlertsConsumer, list[str]]:
    """A consumer at the feed's head, Khadija on the weekly summary, her children's ids."""
    await at(world, start)
    consumer = world.consumer(**kw)
    await drain(consumer)
    setting = await world.preferences.choose_alerts(KHADIJA, rhythm="weekly")
    assert setting.rhythm == "weekly"
    _, kids = await world.children()
    return consumer, kids


async def total_by_the_rule(world: World, student: str, lang: str) -> str:
    """The summary's total sentence for `student` now, from what the ABS answer reads: the
    same backend call, the same rule (`absence_figures`)."""
    gid, _ = await world.children()
    meta = await world.backend().meta()
    page = await world.backend().absences(
        student,
        on_behalf_of=gid,
        date_from=date(int(meta.school_year[:4]), 9, 1),
        date_to=(meta.now or world.clock[0]).date(),
        limit=ABSENCES_READ,
    )
    figures = absence_figures(page)
    t = translator(lang)
    hours = t.number(figures.unjustified_hours)
    return t.ngettext(WEEK_TOTAL, figures.unjustified_count, since="01/09", hours=hours)


async def first_names(world: World) -> dict[str, tuple[str, str]]:
    reply = await world.http.post(
        "/api/v1/guardians/lookup",
        json={"phone": KHADIJA},
        headers={"Authorization": "Bearer sandbox-token"},
    )
    return {s["id"]: (s["first_name_fr"], s["first_name_ar"]) for s in reply.json()["students"]}


def to(alerts: list[dict[str, Any]], phone: str) -> list[dict[str, Any]]:
    return [a for a in alerts if a["to"] == phone]


class FailingForget(AlertStore):
    """Dies once after the summaries were queued, before the held rows are dropped."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.failed = False

    async def forget(self, row_ids: Any) -> None:
        if not self.failed:
            self.failed = True
            raise RuntimeError("killed")
        await super().forget(row_ids)


async def test_the_weekly_summary_goes_out_at_its_slot_once_with_the_rule_s_total(
    world: World,
) -> None:
    consumer, kids = await weekly_world(world)
    await world.absence(kids[0], day="2026-05-20", start="08:30")
    await world.absence(kids[0], day="2026-05-19", start="14:30")
    await drain(consumer)
    alerts = await world.queued()
    assert len(to(alerts, RACHID)) == 2  # he asked for nothing: each one as it comes
    assert to(alerts, KHADIJA) == []  # held for Friday
    await at(world, FRIDAY_BEFORE)
    assert await consumer.release_due() == 0  # not yet
    await at(world, FRIDAY_AFTER)
    crashing = FailingForget(world.engine, key_secret=world.key)
    dying = world.consumer(store=crashing)
    with pytest.raises(RuntimeError):
        await dying.release_due()  # queued, then killed before the rows were dropped
    assert await consumer.release_due() == 0  # done again: the outbox had its key
    assert await consumer.release_due() == 0  # and nothing is left
    summaries = to(await world.queued(), KHADIJA)
    assert len(summaries) == 1  # once per child and week
    text = summaries[0]["text"]
    name_ar = (await first_names(world))[kids[0]][1]
    assert text.startswith(f"مسار: {name_ar}، أسبوع 22/05: ")  # in Arabic, her language
    assert "(19/05، 20/05)" in text  # this week's absences, each day once
    assert await total_by_the_rule(world, kids[0], "ar") in text  # the ABS answer's total
    assert text.endswith("أرسل غياب. للإيقاف أرسل توقف.")
    assert "week" in summaries[0]["key"]
    year, week, _ = FRIDAY_AFTER.isocalendar()
    assert week_key(kids[0], FRIDAY_AFTER) == f"weekly:{kids[0]}:{year}-W{week:02d}"
    assert await AlertStore(world.engine, key_secret=world.key).held_count() == 0


async def test_the_french_summary_names_this_week_the_total_and_what_to_reply(
    world: World,
) -> None:
    consumer, kids = await weekly_world(world)
    await world.preferences.set_lang(KHADIJA, "fr")
    await world.absence(kids[1], day="2026-05-21", start="10:30")
    await drain(consumer)
    await at(world, FRIDAY_AFTER)
    assert await consumer.release_due() == 1
    (summary,) = to(await world.queued(), KHADIJA)
    name_fr = (await first_names(world))[kids[1]][0]
    text = summary["text"]
    assert text.startswith(f"Massar: {name_fr}, semaine au 22/05: ")
    assert "21/05)." in text  # with any other absence of this week
    assert gsm_fold(await total_by_the_rule(world, kids[1], "fr")) in text
    assert "Répondez ABS." in text
    assert "STOP" in text  # her first alert ever says how to stop them


async def test_a_week_with_nothing_to_report_sends_nothing(world: World) -> None:
    # A week of June: the demo children have no absence of their own in it.
    consumer, kids = await weekly_world(world, start=datetime(2026, 6, 17, 10, 0, tzinfo=UTC))
    created = await world.absence(kids[0], day="2026-06-17", start="08:30")
    await drain(consumer)
    justified = await world.http.patch(
        f"/_sandbox/absences/{created['id']}",
        json={"status": "justified", "reason_code": "medical"},
        headers=ADMIN,
    )
    assert justified.status_code == 200, justified.text
    await drain(consumer)
    await at(world, datetime(2026, 6, 19, 17, 1, tzinfo=UTC))  # Friday 18:01
    assert await consumer.release_due() == 0  # read from the backend now: nothing to report
    assert to(await world.queued(), KHADIJA) == []
    assert await AlertStore(world.engine, key_secret=world.key).held_count() == 0


async def test_a_slot_in_quiet_hours_waits_for_the_morning(world: World) -> None:
    consumer, kids = await weekly_world(world, quiet="21:00-07:00")
    consumer.config = replace(consumer.config, weekly=Weekly.parse("fri 22:00"))
    await world.absence(kids[0], day="2026-05-20", start="08:30")
    await drain(consumer)
    await at(world, datetime(2026, 5, 22, 21, 30, tzinfo=UTC))  # Friday 22:30: quiet
    assert await consumer.release_due() == 0
    await at(world, datetime(2026, 5, 23, 6, 1, tzinfo=UTC))  # Saturday 07:01
    assert await consumer.release_due() == 1


async def test_marks_only_and_absences_only_shape_the_summary(world: World) -> None:
    consumer, kids = await weekly_world(world)
    await world.preferences.choose_alerts(KHADIJA, kinds=frozenset({"marks"}))
    await world.absence(kids[0], day="2026-05-20", start="08:30")
    await drain(consumer)
    assert await AlertStore(world.engine, key_secret=world.key).held_count() == 0  # not wanted
    published = await world.http.post(
        "/_sandbox/grades/publish",
        json={"student_id": kids[0], "school_year": "2025-2026", "semester": 2},
        headers=ADMIN,
    )
    assert published.status_code == 200, published.text
    await drain(consumer)
    await at(world, FRIDAY_AFTER)
    assert await consumer.release_due() == 1
    (summary,) = to(await world.queued(), KHADIJA)
    assert "الأسدس 2" in summary["text"]
    assert "غياب" not in summary["text"]  # marks only: no absence line, no total
    assert "أرسل نقط." in summary["text"]


async def test_a_phone_that_stops_during_the_week_gets_no_summary(world: World) -> None:
    consumer, kids = await weekly_world(world)
    await world.absence(kids[0], day="2026-05-20", start="08:30")
    await drain(consumer)
    await world.preferences.opt_out(KHADIJA)
    await at(world, FRIDAY_AFTER)
    assert await consumer.release_due() == 0
    assert to(await world.queued(), KHADIJA) == []


def test_the_slot_is_the_next_one_after_now() -> None:
    friday = Weekly.parse("fri 18:00")
    assert friday.next_after(WEDNESDAY).isoformat() == "2026-05-22T18:00:00+01:00"
    assert friday.next_after(FRIDAY_BEFORE).isoformat() == "2026-05-22T18:00:00+01:00"
    assert friday.next_after(FRIDAY_AFTER).isoformat() == "2026-05-29T18:00:00+01:00"
    assert (
        Weekly.parse("Sunday 09:30")
        .next_after(WEDNESDAY)
        .isoformat()
        .startswith("2026-05-24T09:30")
    )
    for bad in ("18:00", "vendredi 18:00", "fri", "fri 25:00"):
        with pytest.raises(ValueError, match="looks like fri 18:00"):
            Weekly.parse(bad)

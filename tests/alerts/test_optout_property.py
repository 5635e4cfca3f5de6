"""An opted-out number receives nothing: random sequences of changes and of messages typed by
the phones (STOP, ARRÊT, توقف, 7bes, START, ابدأ, the alerts menu: ALERTES then a choice, and
messages that only look like them) go through the dialog engine and the alerts planner, and
no alert is ever sent or held (at once, quiet hours, a daily digest, a weekly summary) for a
phone whose last switch was STOP or the menu's "stop", while every other linked phone that
wants the alert's kind gets it once, at once or held for its rhythm."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend_client import BackendUnavailable, Deadline, NotFound
from backend_client.models import ChangeEvent, GuardianContact
from gateway.alerts.plan import alert_of, plan
from gateway.channels.twilio_sms import SMS_PROFILE
from gateway.dialogs.conversation import Turn
from gateway.dialogs.engine import step
from gateway.dialogs.model import ChannelKind, Inbound, Session
from gateway.preferences import AlertsSetting
from gateway.state.alerts.preferences import ALERT_KINDS, AlertPreference

NOW = datetime(2026, 5, 20, 9, 0, tzinfo=UTC)
PHONES = ["+212600000001", "+212700000001", "+212600000111", "+212600000222"]
CONTACTS = {
    "gdn_1": GuardianContact(
        id="gdn_1", first_name_fr="K", first_name_ar="خ", preferred_lang="ar", phones=(PHONES[0],)
    ),
    "gdn_2": GuardianContact(
        id="gdn_2",
        first_name_fr="R",
        first_name_ar="ر",
        preferred_lang="fr",
        phones=(PHONES[1], PHONES[2]),
    ),
    "gdn_3": GuardianContact(
        id="gdn_3", first_name_fr="N", first_name_ar="ن", preferred_lang="fr", phones=(PHONES[3],)
    ),
}
STUDENTS = {"stu_1": ("gdn_1", "gdn_2"), "stu_2": ("gdn_2", "gdn_3"), "stu_3": ("gdn_3",)}
STOPS = ["STOP", "stop", "ARRÊT", "Arret", "توقف", "إيقاف", "7bes", "stop sms"]
STARTS = ["START", "start", "ابدأ", "bda", "Reprendre"]
OTHERS = ["stop les notes svp", "les notes", "bonjour", "1", "reinscription", "arrêt de bus"]
MENU = ["ALERTES", "تنبيهات", "tanbihat"]
CHOICES = ["1", "2", "3", "4", "5", "6", "0"]  # at once, daily, weekly, absences, marks, stop
RHYTHM = {"1": "instant", "2": "daily", "3": "weekly"}
ONLY = {"4": "absence", "5": "marks"}


@dataclass
class MemoryPreferences:
    """The `Preferences` port in memory."""

    opted_out: set[str] = field(default_factory=set)
    langs: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)
    rhythms: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, frozenset[str]] = field(default_factory=dict)

    async def opt_out(self, phone: str, at: datetime | None = None) -> None:
        self.opted_out.add(phone)

    async def opt_in(self, phone: str, at: datetime | None = None) -> None:
        self.opted_out.discard(phone)

    async def lang(self, phone: str) -> str | None:
        return self.langs.get(phone)

    async def set_lang(self, phone: str, lang: str, at: datetime | None = None) -> None:
        self.langs[phone] = lang

    async def set_channel(
        self, phone: str, channel: str, chat_address: str | None = None, at: datetime | None = None
    ) -> None:
        self.channels[phone] = channel

    async def choose_alerts(
        self,
        phone: str,
        *,
        rhythm: str | None = None,
        kinds: frozenset[str] | None = None,
        at: datetime | None = None,
    ) -> AlertsSetting:
        self.opted_out.discard(phone)
        if rhythm is not None:
            self.rhythms[phone], self.kinds[phone] = rhythm, ALERT_KINDS
        if kinds is not None:
            self.kinds[phone] = kinds
        return AlertsSetting(
            rhythm=self.rhythms.get(phone, "instant"), kinds=self.kinds.get(phone, ALERT_KINDS)
        )

    def snapshot(self) -> dict[str, AlertPreference]:
        return {
            p: AlertPreference(
                opted_out=p in self.opted_out,
                rhythm=self.rhythms.get(p, "instant"),
                kinds=self.kinds.get(p, ALERT_KINDS),
                welcomed=True,
            )
            for p in PHONES
        }


class Unreachable:
    """A backend that knows no phone and is otherwise down: switches must not need it."""

    def __getattr__(self, name: str) -> Any:
        async def call(*args: Any, **kwargs: Any) -> Any:
            if name == "lookup_guardian":
                raise NotFound(status=404, code="guardian-not-found")
            raise BackendUnavailable(status=503, code="service-unavailable")

        return call

    def stale_since(self) -> None:
        return None


class NoBindings:
    async def bound_since(self, phone: str) -> dict[str, datetime]:
        return {}

    async def bind(self, phone: str, student_id: str, at: datetime) -> None:
        raise AssertionError("no binding in this test")


class NoLockout:
    async def is_locked(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> bool:
        return False

    async def locked_until(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> float | None:
        return None

    async def record_failure(
        self, phone: str, code: str, *, call: str | None = None, holder: bool = False
    ) -> bool:
        return False


def event(n: int, student: str, kind: str) -> ChangeEvent:
    data: dict[str, Any] = {"school_year": "2025-2026", "semester": 2}
    type_ = "grade.published"
    if kind == "absence":
        type_ = "absence.created"
        data = {
            "date": "2026-05-20",
            "start_time": "08:30",
            "end_time": "09:30",
            "hours": 1,
            "kind": "absence",
            "status": "unjustified",
        }
    return ChangeEvent(
        id=f"evt_{n:09d}",
        type=type_,
        occurred_at=NOW,
        student_id=student,
        student_first_name_fr="Youssef",
        student_first_name_ar="يوسف",
        guardian_ids=STUDENTS[student],
        data=data,
    )


async def typed(
    prefs: MemoryPreferences,
    phone: str,
    text: str,
    n: int,
    sessions: dict[str, Session] | None = None,
) -> None:
    turn = Turn(
        backend=Unreachable(),  # type: ignore[arg-type]
        bindings=NoBindings(),
        lockout=NoLockout(),
        profile=SMS_PROFILE,
        now=NOW,
        deadline=Deadline.after(5.0),
        preferences=prefs,
    )
    inbound = Inbound(
        channel=ChannelKind.SMS, sender=phone, text=text, message_id=f"m{n}", received_at=NOW
    )
    sessions = {} if sessions is None else sessions
    done = await step(sessions.get(phone), inbound, turn)
    sessions[phone] = done.session


messages = st.tuples(
    st.just("msg"),
    st.sampled_from(PHONES),
    st.sampled_from(STOPS + STARTS + OTHERS + MENU + CHOICES),
)
changes = st.tuples(
    st.just("evt"), st.sampled_from(sorted(STUDENTS)), st.sampled_from(["absence", "marks"])
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(messages, changes), min_size=1, max_size=30),
    st.sampled_from([None, NOW + timedelta(hours=12)]),  # quiet hours, or not
)
def test_an_opted_out_phone_is_never_sent_an_alert(
    ops: list[tuple[str, str, str]], quiet_until: datetime | None
) -> None:
    digest_at, weekly_at = NOW + timedelta(hours=9), NOW + timedelta(days=2)

    async def run() -> None:
        prefs = MemoryPreferences()
        sessions: dict[str, Session] = {}
        expected_out: set[str] = set()
        menu_open: set[str] = set()  # phones whose last message opened the alerts menu
        for n, (op, who, what) in enumerate(ops):
            if op == "msg":
                await typed(prefs, who, what, n, sessions)
                if what in STOPS or (who in menu_open and what == "6"):
                    expected_out.add(who)
                elif what in STARTS or (who in menu_open and what in "12345"):
                    expected_out.discard(who)
                menu_open.discard(who)
                if what in MENU:
                    menu_open.add(who)
                assert prefs.opted_out == expected_out, what
                continue
            alert = alert_of(event(n, who, what))
            assert alert is not None
            snapshot = prefs.snapshot()
            planned = plan(
                [alert],
                CONTACTS,
                snapshot,
                now=NOW,
                hold_until=quiet_until,
                digest_at=digest_at,
                weekly_at=weekly_at,
            )
            sent = [m.to for m in planned.messages]
            held = [h.phone for h in planned.holds]
            assert not (set(sent) | set(held)) & prefs.opted_out  # no path reaches them
            linked = {p for g in STUDENTS[who] for p in CONTACTS[g].phones}
            wanting = {p for p in linked if snapshot[p].wants(alert.kind)}
            assert sorted(sent + held) == sorted(wanting)  # once each, no one missed
            for hold in planned.holds:
                pref = snapshot[hold.phone]
                until = weekly_at if pref.weekly else digest_at if pref.digest else quiet_until
                assert hold.release_at == until
                assert (hold.batch == "weekly") is pref.weekly

    anyio.run(run)


def test_the_alerts_menu_sets_the_rhythm_and_its_stop_stops() -> None:
    async def run() -> None:
        prefs = MemoryPreferences()
        sessions: dict[str, Session] = {}
        phone = PHONES[1]
        for n, text in enumerate(["ALERTES", "3", "tanbihat", "4"]):
            await typed(prefs, phone, text, n, sessions)
        assert prefs.snapshot()[phone].weekly
        assert prefs.snapshot()[phone].kinds == {"absence"}
        for n, text in enumerate(["تنبيهات", "6"], start=10):
            await typed(prefs, phone, text, n, sessions)
        assert phone in prefs.opted_out
        alert = alert_of(event(99, "stu_1", "absence"))
        assert alert is not None
        planned = plan([alert], CONTACTS, prefs.snapshot(), now=NOW, hold_until=None)
        assert phone not in {m.to for m in planned.messages}
        await typed(prefs, phone, "ALERTES", 20, sessions)
        await typed(prefs, phone, "1", 21, sessions)  # at once: on again, every kind
        assert phone not in prefs.opted_out
        assert prefs.snapshot()[phone].kinds == ALERT_KINDS

    anyio.run(run)


def test_a_malformed_absence_event_alerts_no_one_and_does_not_stop_the_feed() -> None:
    bad = event(1, "stu_1", "absence").model_copy(
        update={"data": {"date": "20/05/2026", "status": "unjustified"}}
    )
    assert alert_of(bad) is None
    unknown = event(2, "stu_1", "marks").model_copy(update={"type": "homework.published"})
    assert alert_of(unknown) is None

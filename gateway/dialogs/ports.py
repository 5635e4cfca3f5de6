"""What the engine needs from the outside world, as protocols: the backend, the durable
bindings of children to phones, the verification lockout and a phone's lasting choices
(alerts on or off, language). Tests pass in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from backend_client import Deadline
from backend_client.models import (
    AbsencesPage,
    AbsenceStatus,
    ApplicationSummary,
    EnrolmentApplication,
    Grades,
    GuardianLookup,
    Meta,
    VerifyResult,
)
from gateway.dialogs.model import AlertTimes


class Backend(Protocol):
    """The subset of `backend_client.MassarClient` the dialogs call."""

    async def lookup_guardian(
        self, phone: str, *, deadline: Deadline | float | None = None
    ) -> GuardianLookup: ...

    async def verify_student(
        self,
        massar_code: str,
        birth_date: date,
        phone: str,
        *,
        deadline: Deadline | float | None = None,
    ) -> VerifyResult: ...

    async def grades(
        self,
        sid: str,
        school_year: str,
        semester: int,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
    ) -> Grades: ...

    async def absences(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        date_from: date | None = None,
        date_to: date | None = None,
        status: AbsenceStatus | None = None,
        limit: int | None = None,
        deadline: Deadline | float | None = None,
    ) -> AbsencesPage: ...

    async def student_applications(
        self, sid: str, *, on_behalf_of: str, deadline: Deadline | float | None = None
    ) -> tuple[ApplicationSummary, ...]: ...

    async def lookup_application(
        self, number: str, child_birth_date: date, *, deadline: Deadline | float | None = None
    ) -> EnrolmentApplication: ...

    async def meta(self, *, deadline: Deadline | float | None = None) -> Meta: ...

    def stale_since(self) -> datetime | None:
        """When the oldest answer served from a stale cache in this turn was fetched.

        None when every answer of the turn is fresh (always, for a backend without a cache).
        """
        ...


class Bindings(Protocol):
    """Which children a phone has proved it may see (Massar code + birth date), and since when."""

    async def bound_since(self, phone: str) -> dict[str, datetime]: ...

    async def bind(self, phone: str, student_id: str, at: datetime) -> None: ...


class Lockout(Protocol):
    """Failed-verification counters (DOMAIN §3): per phone and per Massar code.

    `call`: the voice call asking, whose caller ID is only a claim: its failures lock the call
    and the caller ID's voice attempts, never the phone on the channels its operator vouches
    for. `holder`: Massar links the phone to the code's child, so a locked code (strangers'
    failures) does not stop it; its own counters still do.
    """

    async def is_locked(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> bool: ...

    async def locked_until(
        self,
        phone: str,
        code: str | None = None,
        *,
        call: str | None = None,
        holder: bool = False,
    ) -> float | None:
        """When the lock `is_locked` sees ends, epoch seconds; None when unlocked."""
        ...

    async def record_failure(
        self, phone: str, code: str, *, call: str | None = None, holder: bool = False
    ) -> bool:
        """Count one failure; True when this caller is now locked out."""
        ...


@dataclass(frozen=True, slots=True)
class AlertsSetting:
    """Which alerts a phone gets and how often, after a choice in the alerts menu, and when
    the summaries go out (the alerts' settings)."""

    rhythm: str  # "instant" | "daily" (one digest a day) | "weekly" (one summary a week)
    kinds: frozenset[str]  # of "absence", "marks", "enrolment"
    times: AlertTimes = field(default_factory=AlertTimes)


class Preferences(Protocol):
    """What a phone chose that outlives its sessions: alerts stopped (STOP) or resumed (START)
    on the channel START came from, which alerts and how often (the alerts menu), and the
    language it picked with AR/FR."""

    async def opt_out(self, phone: str, at: datetime | None = None) -> None: ...

    async def opt_in(self, phone: str, at: datetime | None = None) -> None: ...

    async def lang(self, phone: str) -> str | None: ...

    async def set_lang(self, phone: str, lang: str, at: datetime | None = None) -> None: ...

    async def set_channel(
        self, phone: str, channel: str, chat_address: str | None = None, at: datetime | None = None
    ) -> None: ...

    async def choose_alerts(
        self,
        phone: str,
        *,
        rhythm: str | None = None,
        kinds: frozenset[str] | None = None,
        at: datetime | None = None,
    ) -> AlertsSetting:
        """Alerts on again for `phone`, with a new rhythm (every kind of alert again) or only
        these kinds (the rhythm kept); what it gets now."""
        ...

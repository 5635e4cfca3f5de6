"""What the engine needs from the outside world, as protocols: the backend, the durable
bindings of children to phones, the verification lockout and a phone's lasting choices
(alerts on or off, language). Tests pass in-memory fakes."""

from __future__ import annotations

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
from gateway.preferences import AlertsSetting, Preferences

__all__ = ["AlertsSetting", "Backend", "Bindings", "Lockout", "Preferences"]


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

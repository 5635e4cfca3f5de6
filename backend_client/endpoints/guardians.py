"""Calls about a guardian: lookup by phone, verification, children, applications."""

from __future__ import annotations

from datetime import date

from ..calls import Caller
from ..deadline import Deadline
from ..models import (
    ApplicationSummary,
    EnrolmentApplication,
    GuardianLookup,
    StudentSummary,
    VerifyResult,
)
from ..routes import (
    GUARDIAN_APPLICATIONS,
    GUARDIAN_STUDENTS,
    LOOKUP_APPLICATION,
    LOOKUP_GUARDIAN,
    VERIFY_STUDENT,
)

__all__: list[str] = []


class GuardianCalls(Caller):
    """Guardians' calls of `MassarClient`, and the lookup of an enrolment application by number."""

    async def lookup_guardian(
        self, phone: str, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> GuardianLookup:
        """`POST /guardians/lookup`: the guardian holding `phone` (E.164) and their children.

        A POST only to keep the phone out of URLs; it is a pure read, so it is retried.
        """
        return await self._call(
            LOOKUP_GUARDIAN,
            json={"phone": phone},
            deadline=deadline,
            request_id=request_id,
        )

    async def verify_student(
        self,
        massar_code: str,
        birth_date: date,
        phone: str,
        *,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> VerifyResult:
        """`POST /students/verify`: does this code, birth date and guardian phone match?

        Sent once, never retried: the backend counts failures towards the lockout.
        """
        return await self._call(
            VERIFY_STUDENT,
            json={
                "massar_code": massar_code,
                "birth_date": birth_date.isoformat(),
                "phone": phone,
            },
            deadline=deadline,
            request_id=request_id,
        )

    async def guardian_students(
        self, gid: str, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> tuple[StudentSummary, ...]:
        """`GET /guardians/{gid}/students`: the guardian's children with their current class."""
        page = await self._call(
            GUARDIAN_STUDENTS,
            ids={"gid": gid},
            deadline=deadline,
            request_id=request_id,
        )
        return page.items

    async def guardian_applications(
        self, gid: str, *, deadline: Deadline | float | None = None, request_id: str | None = None
    ) -> tuple[ApplicationSummary, ...]:
        """`GET /guardians/{gid}/enrolment-applications`: applications this guardian filed."""
        page = await self._call(
            GUARDIAN_APPLICATIONS,
            ids={"gid": gid},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=gid,
        )
        return page.items

    async def lookup_application(
        self,
        number: str,
        child_birth_date: date,
        *,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> EnrolmentApplication:
        """`POST /enrolment-applications/lookup`: status and history by number.

        Sent once, never retried: the backend counts misses towards a lockout (429).
        """
        return await self._call(
            LOOKUP_APPLICATION,
            json={"number": number, "child_birth_date": child_birth_date.isoformat()},
            deadline=deadline,
            request_id=request_id,
        )

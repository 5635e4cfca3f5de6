"""Calls about one student, on a guardian's behalf: profile, grades, absences, results."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

from ..calls import Caller
from ..deadline import Deadline
from ..models import (
    AbsenceKind,
    AbsencesPage,
    AbsenceStatus,
    ApplicationSummary,
    Grades,
    StudentProfile,
    YearResult,
)
from ..routes import ABSENCES, GRADES, RESULTS, STUDENT, STUDENT_APPLICATIONS

__all__: list[str] = []


class StudentCalls(Caller):
    """Reads of one student's records, always `on_behalf_of` a linked guardian."""

    async def student(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> StudentProfile:
        """`GET /students/{sid}`: the minimal profile."""
        return await self._call(
            STUDENT,
            ids={"sid": sid},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def grades(
        self,
        sid: str,
        school_year: str,
        semester: int,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> Grades:
        """`GET /students/{sid}/grades`; `NotFound(code="not-published")` before publication."""
        return await self._call(
            GRADES,
            ids={"sid": sid},
            params={"school_year": school_year, "semester": str(semester)},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def absences(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        date_from: date | None = None,
        date_to: date | None = None,
        status: AbsenceStatus | None = None,
        kind: AbsenceKind | None = None,
        limit: int | None = None,
        cursor: str | None = None,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> AbsencesPage:
        """`GET /students/{sid}/absences`: one page; follow `next_cursor` for the next."""
        params: dict[str, str] = {}
        if date_from is not None:
            params["from"] = date_from.isoformat()
        if date_to is not None:
            params["to"] = date_to.isoformat()
        if status is not None:
            params["status"] = str(status)
        if kind is not None:
            params["kind"] = str(kind)
        if limit is not None:
            params["limit"] = str(limit)
        if cursor is not None:
            params["cursor"] = cursor
        return await self._call(
            ABSENCES,
            ids={"sid": sid},
            params=params,
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def iter_absence_pages(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        date_from: date | None = None,
        date_to: date | None = None,
        status: AbsenceStatus | None = None,
        kind: AbsenceKind | None = None,
        limit: int | None = None,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> AsyncIterator[AbsencesPage]:
        """Every page of `absences`, following cursors, all within one deadline."""
        budget = self._as_deadline(deadline)
        cursor: str | None = None
        while True:
            page = await self.absences(
                sid,
                on_behalf_of=on_behalf_of,
                date_from=date_from,
                date_to=date_to,
                status=status,
                kind=kind,
                limit=limit,
                cursor=cursor,
                deadline=budget,
                request_id=request_id,
            )
            yield page
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def results(
        self,
        sid: str,
        school_year: str,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> YearResult:
        """`GET /students/{sid}/results`; `NotFound(code="not-published")` before the council."""
        return await self._call(
            RESULTS,
            ids={"sid": sid},
            params={"school_year": school_year},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )

    async def student_applications(
        self,
        sid: str,
        *,
        on_behalf_of: str,
        deadline: Deadline | float | None = None,
        request_id: str | None = None,
    ) -> tuple[ApplicationSummary, ...]:
        """`GET /students/{sid}/enrolment-applications`: re-registration and transfers."""
        page = await self._call(
            STUDENT_APPLICATIONS,
            ids={"sid": sid},
            deadline=deadline,
            request_id=request_id,
            on_behalf_of=on_behalf_of,
        )
        return page.items

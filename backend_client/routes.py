"""The routes of the Massar API this client calls (DOMAIN.md §8): method, path, reply model,
and whether a call may be sent again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from pydantic import BaseModel

from .models import (
    AbsencesPage,
    ApplicationSummary,
    BackendModel,
    ChangesHead,
    ChangesPage,
    EnrolmentApplication,
    Grades,
    GuardianContact,
    GuardianLookup,
    Health,
    Meta,
    StudentProfile,
    StudentSummary,
    VerifyResult,
    YearResult,
)

__all__ = ["ROUTES", "Route"]

M = TypeVar("M", bound=BaseModel)


class _Collection(BackendModel):
    """The list envelope of the contract: ``{"items": [...], "next_cursor": ...}``."""


class _StudentList(_Collection):
    items: tuple[StudentSummary, ...]


class _ApplicationList(_Collection):
    items: tuple[ApplicationSummary, ...]


class _ContactList(BackendModel):
    items: tuple[GuardianContact, ...]


@dataclass(frozen=True, slots=True)
class Route(Generic[M]):
    """One route of the API as this client calls it: its reply model and whether to retry."""

    method: str
    path: str
    """Relative to the base URL, with ``{sid}``-style placeholders for opaque ids."""
    model: type[M]
    idempotent: bool
    """Safe to send again; False for calls whose failures the backend counts."""

    def path_for(self, **ids: str) -> str:
        return self.path.format(**{name: _segment(value) for name, value in ids.items()})


LOOKUP_GUARDIAN = Route("POST", "/guardians/lookup", GuardianLookup, idempotent=True)
VERIFY_STUDENT = Route("POST", "/students/verify", VerifyResult, idempotent=False)
GUARDIAN_STUDENTS = Route("GET", "/guardians/{gid}/students", _StudentList, idempotent=True)
GUARDIAN_APPLICATIONS = Route(
    "GET", "/guardians/{gid}/enrolment-applications", _ApplicationList, idempotent=True
)
STUDENT = Route("GET", "/students/{sid}", StudentProfile, idempotent=True)
GRADES = Route("GET", "/students/{sid}/grades", Grades, idempotent=True)
ABSENCES = Route("GET", "/students/{sid}/absences", AbsencesPage, idempotent=True)
RESULTS = Route("GET", "/students/{sid}/results", YearResult, idempotent=True)
STUDENT_APPLICATIONS = Route(
    "GET", "/students/{sid}/enrolment-applications", _ApplicationList, idempotent=True
)
LOOKUP_APPLICATION = Route(
    "POST", "/enrolment-applications/lookup", EnrolmentApplication, idempotent=False
)
GUARDIANS_BATCH = Route("POST", "/guardians/batch", _ContactList, idempotent=True)
CHANGES = Route("GET", "/changes", ChangesPage, idempotent=True)
CHANGES_HEAD = Route("GET", "/changes/head", ChangesHead, idempotent=True)
HEALTH = Route("GET", "/health", Health, idempotent=True)
META = Route("GET", "/meta", Meta, idempotent=True)

ROUTES: Final[tuple[Route[Any], ...]] = (
    LOOKUP_GUARDIAN,
    VERIFY_STUDENT,
    GUARDIAN_STUDENTS,
    GUARDIAN_APPLICATIONS,
    STUDENT,
    GRADES,
    ABSENCES,
    RESULTS,
    STUDENT_APPLICATIONS,
    LOOKUP_APPLICATION,
    GUARDIANS_BATCH,
    CHANGES,
    CHANGES_HEAD,
    HEALTH,
    META,
)
"""Every route the client calls; a test checks them against the server's ``/openapi.json``."""


def _segment(value: str) -> str:
    """An id as one path segment: ids are opaque, so never let one add a path."""
    if not value or "/" in value or value in {".", ".."}:
        raise ValueError("an id must be one non-empty path segment")
    return value

"""Guardians and students: lookup, verification, profile."""

from __future__ import annotations

from backend_client.models.base import BackendModel, Lang, Relation


class Level(BackendModel):
    """A school level such as ``1AC`` (DOMAIN.md §1)."""

    code: str
    name_fr: str
    name_ar: str


class School(BackendModel):
    """A school's name in both languages."""

    name_fr: str
    name_ar: str


class Guardian(BackendModel):
    """A parent or tutor, with first names only."""

    id: str
    first_name_fr: str
    first_name_ar: str
    preferred_lang: Lang


class GuardianContact(Guardian):
    """A guardian with the phones the school registered (E.164), for alerts
    (`POST /guardians/batch`)."""

    phones: tuple[str, ...] = ()


class StudentSummary(BackendModel):
    """A child as listed for a guardian, with the current class."""

    id: str
    first_name_fr: str
    first_name_ar: str
    relation: Relation
    level: Level
    class_label: str
    school: School
    massar_code_masked: str


class GuardianLookup(BackendModel):
    """`POST /guardians/lookup`."""

    guardian: Guardian
    students: tuple[StudentSummary, ...]


class VerifyResult(BackendModel):
    """`POST /students/verify`: `student_id` is set only on a match."""

    match: bool
    student_id: str | None = None


class StudentProfile(BackendModel):
    """`GET /students/{sid}`: the minimal profile (the contract gives no example)."""

    id: str
    first_name_fr: str
    first_name_ar: str
    massar_code_masked: str
    level: Level | None = None
    class_label: str | None = None
    school: School | None = None

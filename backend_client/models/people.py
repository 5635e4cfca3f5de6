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
    # `may_notify` of the guardian's links (additive fields: an older backend sends neither,
    # and every link then allows notices). False: no link allows them, send nothing.
    may_notify: bool = True
    no_notice_students: tuple[str, ...] = ()  # children this guardian must not be told about

    def may_be_told_about(self, student_id: str | None) -> bool:
        """Whether an alert about `student_id` (None: not about an enrolled child) may
        reach this guardian."""
        return self.may_notify and student_id not in self.no_notice_students


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

"""Bodies of the guardians' endpoints: lookup, children, batch, verification."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from sandbox.schemas.common import LevelRef, SchoolRef, _In


# --- guardians ---------------------------------------------------------------------------------
class GuardianLookupRequest(_In):
    phone: str = Field(min_length=1, max_length=32, examples=["+212600000001"])


class GuardianOut(BaseModel):
    id: str
    first_name_fr: str
    first_name_ar: str
    preferred_lang: Literal["ar", "fr"]


class StudentSummary(BaseModel):
    id: str
    first_name_fr: str
    first_name_ar: str
    relation: Literal["father", "mother", "tutor"]
    level: LevelRef
    class_label: str
    school: SchoolRef
    massar_code_masked: str


class GuardianLookupResponse(BaseModel):
    guardian: GuardianOut
    students: list[StudentSummary]


class GuardianStudentsResponse(BaseModel):
    items: list[StudentSummary]
    next_cursor: str | None = None


class GuardiansBatchRequest(_In):
    ids: list[str] = Field(min_length=1, max_length=500, examples=[["gdn_01HZX3K9"]])


class GuardianContact(GuardianOut):
    """A guardian with the phones the school registered for them (E.164), for alerts."""

    phones: list[str]
    may_notify: bool = Field(
        default=True,
        description="False when none of this guardian's links to a child allows notices "
        "(`guardian_student.may_notify`): send this guardian no alert. Additive: absent "
        "means true.",
    )
    no_notice_students: list[str] = Field(
        default_factory=list,
        description="The children (`stu_…`) whose link to this guardian forbids notices: "
        "no alert about them to this guardian. Additive: absent means none.",
    )


class GuardiansBatchResponse(BaseModel):
    items: list[GuardianContact]


# --- verification ------------------------------------------------------------------------------
class VerifyRequest(_In):
    massar_code: str = Field(
        pattern=r"^[A-Z]?[0-9]{9}$",
        description="The code, or its 9 digits alone (a phone keypad has no letters): "
        "then it is looked for among the students linked to `phone` only.",
        examples=["Z990000001", "990000001"],
    )
    birth_date: str = Field(
        pattern=r"^([0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{8})$",
        description="YYYY-MM-DD or DDMMYYYY (DTMF/USSD form)",
        examples=["2018-09-14", "14092018"],
    )
    phone: str = Field(min_length=1, max_length=32, examples=["+212600000001"])


class VerifyResponse(BaseModel):
    match: bool
    student_id: str | None = None

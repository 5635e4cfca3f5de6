"""The fixed demo accounts that tests and the README rely on (created whatever the seed size)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemoStudent:
    id: int
    massar_code: str
    first_name_fr: str
    first_name_ar: str
    last_name_fr: str
    last_name_ar: str
    gender: str
    birth_date: str
    level_code: str
    label: str
    school_index: int
    ability: float


@dataclass(frozen=True, slots=True)
class DemoGuardian:
    id: int
    phone: str
    first_name_fr: str
    first_name_ar: str
    last_name_fr: str
    last_name_ar: str
    preferred_lang: str
    children: tuple[tuple[int, str], ...]  # (student id, relation)


STUDENTS = [
    DemoStudent(
        1,
        "Z990000001",
        "Youssef",
        "يوسف",
        "Alaoui",
        "العلوي",
        "M",
        "2018-09-14",
        "2AP",
        "2AP-1",
        0,
        13.5,
    ),
    DemoStudent(
        2,
        "Z990000002",
        "Salma",
        "سلمى",
        "Alaoui",
        "العلوي",
        "F",
        "2008-05-02",
        "2BAC-PC",
        "2BAC-PCF-1",
        2,
        14.2,
    ),
    DemoStudent(
        3,
        "Z990000003",
        "Adam",
        "آدم",
        "Bennani",
        "بناني",
        "M",
        "2012-03-14",
        "2AC",
        "2AC-1",
        1,
        11.0,
    ),
]

GUARDIANS = [
    DemoGuardian(
        1,
        "+212600000001",
        "Khadija",
        "خديجة",
        "El Idrissi",
        "الإدريسي",
        "ar",
        ((1, "mother"), (2, "mother")),
    ),
    DemoGuardian(
        2,
        "+212700000001",
        "Rachid",
        "رشيد",
        "Alaoui",
        "العلوي",
        "fr",
        ((1, "father"), (2, "father")),
    ),
    DemoGuardian(3, "+212600000002", "Naima", "نعيمة", "Bennani", "بناني", "fr", ((3, "mother"),)),
    DemoGuardian(4, "+212600000099", "Said", "سعيد", "Tazi", "التازي", "ar", ()),
]

# (id, number, status, child first fr/ar, last fr/ar, birth date, guardian id, history)
APPLICATIONS = [
    (
        1,
        "PRE-2026-0000001",
        "under_review",
        "Ilyas",
        "إلياس",
        "Alaoui",
        "العلوي",
        "2020-06-01",
        1,
        [
            ("submitted", "2026-04-06T20:15:00+01:00", "parent"),
            ("under_review", "2026-04-14T09:30:00+01:00", "director"),
        ],
    ),
    (
        2,
        "PRE-2026-0000002",
        "approved",
        "Hiba",
        "هبة",
        "Bennani",
        "بناني",
        "2020-02-20",
        3,
        [
            ("submitted", "2026-04-02T18:40:00+01:00", "parent"),
            ("under_review", "2026-04-09T10:05:00+01:00", "director"),
            ("approved", "2026-05-12T11:20:00+01:00", "director"),
        ],
    ),
]

# (student id, date, start, hours, subject or None, kind, status, reason)
ABSENCES = [
    (1, "2026-05-12", "08:30", 2, "MATH", "absence", "unjustified", None),
    (1, "2026-05-18", "10:30", 1, "AR", "absence", "unjustified", None),
    (1, "2026-03-10", "08:30", 2, "FR", "absence", "justified", "medical"),
    (1, "2026-04-02", "14:30", 1, None, "late", "justified", "family"),
    (2, "2026-05-11", "08:30", 2, "PC", "absence", "unjustified", None),
    (2, "2026-05-19", "14:30", 1, "MATH", "absence", "unjustified", None),
    (2, "2026-02-16", "10:30", 2, "PHILO", "absence", "rejected", None),
    (2, "2026-05-14", "08:30", 1, None, "late", "unjustified", None),
    (3, "2026-04-21", "09:30", 1, "EN", "absence", "unjustified", None),
    (3, "2025-12-02", "08:30", 2, "SVT", "absence", "justified", "medical"),
]

FIRST_RANDOM_STUDENT_ID = 11

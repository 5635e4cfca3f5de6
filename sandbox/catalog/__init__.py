"""Fixed reference data: regions, provinces, levels, subjects, names (DOMAIN §1, §2, §7).

One module per kind of data: `places`, `names`, `levels` (with subjects), `years`.
"""

from __future__ import annotations

from sandbox.catalog.levels import (
    LEVEL_BY_CODE,
    LEVEL_SUBJECTS,
    LEVELS,
    PREVIOUS_LEVEL,
    SUBJECT_BY_CODE,
    SUBJECTS,
    Level,
    level_subjects,
)
from sandbox.catalog.names import (
    FAMILY,
    FEMALE,
    MALE,
)
from sandbox.catalog.places import (
    PROVINCES,
    REGIONS,
    SCHOOL_NAMES,
)
from sandbox.catalog.years import (
    CURRENT_YEAR,
    MENTIONS,
    SCHOOL_YEARS,
    mention,
    parse_year,
    year_code,
)

__all__ = [
    "CURRENT_YEAR",
    "FAMILY",
    "FEMALE",
    "LEVELS",
    "LEVEL_BY_CODE",
    "LEVEL_SUBJECTS",
    "MALE",
    "MENTIONS",
    "PREVIOUS_LEVEL",
    "PROVINCES",
    "REGIONS",
    "SCHOOL_NAMES",
    "SCHOOL_YEARS",
    "SUBJECTS",
    "SUBJECT_BY_CODE",
    "Level",
    "level_subjects",
    "mention",
    "parse_year",
    "year_code",
]

"""Levels and their subjects with coefficients."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Level:
    code: str
    cycle: str
    stream: str | None
    order: int  # years since 1AP: 1AP=0 … 2BAC=11
    name_fr: str
    name_ar: str


_ORD_FR = ["1ère", "2ème", "3ème", "4ème", "5ème", "6ème"]
_ORD_AR = ["الأولى", "الثانية", "الثالثة", "الرابعة", "الخامسة", "السادسة"]

LEVELS: list[Level] = [
    *(
        Level(
            f"{i + 1}AP",
            "primaire",
            None,
            i,
            f"{_ORD_FR[i]} année primaire",
            f"السنة {_ORD_AR[i]} ابتدائي",
        )
        for i in range(6)
    ),
    *(
        Level(
            f"{i + 1}AC",
            "college",
            None,
            6 + i,
            f"{_ORD_FR[i]} année collège",
            f"السنة {_ORD_AR[i]} إعدادي",
        )
        for i in range(3)
    ),
    Level("TCS", "lycee", "S", 9, "Tronc commun scientifique", "الجذع المشترك العلمي"),
    Level(
        "TCLSH",
        "lycee",
        "LSH",
        9,
        "Tronc commun lettres et sciences humaines",
        "الجذع المشترك للآداب والعلوم الإنسانية",
    ),
    Level("TCT", "lycee", "T", 9, "Tronc commun technologique", "الجذع المشترك التكنولوجي"),
    Level(
        "1BAC-SE",
        "lycee",
        "SE",
        10,
        "1ère Bac Sciences expérimentales",
        "الأولى باكالوريا علوم تجريبية",
    ),
    Level(
        "1BAC-SM",
        "lycee",
        "SM",
        10,
        "1ère Bac Sciences mathématiques",
        "الأولى باكالوريا علوم رياضية",
    ),
    Level(
        "1BAC-LSH",
        "lycee",
        "LSH",
        10,
        "1ère Bac Lettres et sciences humaines",
        "الأولى باكالوريا آداب وعلوم إنسانية",
    ),
    Level(
        "1BAC-SEG",
        "lycee",
        "SEG",
        10,
        "1ère Bac Sciences économiques et gestion",
        "الأولى باكالوريا علوم اقتصادية وتدبير",
    ),
    Level(
        "2BAC-PC",
        "lycee",
        "PC",
        11,
        "2ème Bac Sciences physiques",
        "الثانية باكالوريا علوم فيزيائية",
    ),
    Level(
        "2BAC-SVT",
        "lycee",
        "SVT",
        11,
        "2ème Bac Sciences de la vie et de la terre",
        "الثانية باكالوريا علوم الحياة والأرض",
    ),
    Level(
        "2BAC-SMA",
        "lycee",
        "SMA",
        11,
        "2ème Bac Sciences mathématiques A",
        "الثانية باكالوريا علوم رياضية أ",
    ),
    Level("2BAC-L", "lycee", "L", 11, "2ème Bac Lettres", "الثانية باكالوريا آداب"),
    Level(
        "2BAC-ECO",
        "lycee",
        "ECO",
        11,
        "2ème Bac Sciences économiques",
        "الثانية باكالوريا علوم اقتصادية",
    ),
]
LEVEL_BY_CODE = {lv.code: lv for lv in LEVELS}

# The level each level comes from a year earlier (for the previous year's enrolment).
PREVIOUS_LEVEL: dict[str, str | None] = {
    "1AP": None,
    "2AP": "1AP",
    "3AP": "2AP",
    "4AP": "3AP",
    "5AP": "4AP",
    "6AP": "5AP",
    "1AC": "6AP",
    "2AC": "1AC",
    "3AC": "2AC",
    "TCS": "3AC",
    "TCLSH": "3AC",
    "TCT": "3AC",
    "1BAC-SE": "TCS",
    "1BAC-SM": "TCS",
    "1BAC-LSH": "TCLSH",
    "1BAC-SEG": "TCLSH",
    "2BAC-PC": "1BAC-SE",
    "2BAC-SVT": "1BAC-SE",
    "2BAC-SMA": "1BAC-SM",
    "2BAC-L": "1BAC-LSH",
    "2BAC-ECO": "1BAC-SEG",
}

SUBJECTS: list[tuple[str, str, str]] = [
    ("AR", "Langue arabe", "اللغة العربية"),
    ("FR", "Langue française", "اللغة الفرنسية"),
    ("AMZ", "Langue amazighe", "اللغة الأمازيغية"),
    ("EN", "Langue anglaise", "اللغة الإنجليزية"),
    ("MATH", "Mathématiques", "الرياضيات"),
    ("SCI", "Activité scientifique", "النشاط العلمي"),
    ("PC", "Physique-chimie", "الفيزياء والكيمياء"),
    ("SVT", "Sciences de la vie et de la terre", "علوم الحياة والأرض"),
    ("EI", "Éducation islamique", "التربية الإسلامية"),
    ("HG", "Histoire-géographie", "الاجتماعيات"),
    ("EPS", "Éducation physique et sportive", "التربية البدنية"),
    ("ART", "Éducation artistique", "التربية التشكيلية"),
    ("MUS", "Éducation musicale", "التربية الموسيقية"),
    ("FAM", "Éducation familiale", "التربية الأسرية"),
    ("TECH", "Technologie / Informatique", "التكنولوجيا / المعلوميات"),
    ("PHILO", "Philosophie", "الفلسفة"),
    ("TRAD", "Traduction", "الترجمة"),
    ("ECO", "Économie générale et statistiques", "الاقتصاد العام والإحصاء"),
    ("COMPTA", "Comptabilité et maths financières", "المحاسبة والرياضيات المالية"),
    ("SI", "Sciences de l'ingénieur", "علوم المهندس"),
]
SUBJECT_BY_CODE = {code: (fr, ar) for code, fr, ar in SUBJECTS}

_PRIMARY = [
    ("AR", 4),
    ("FR", 3),
    ("AMZ", 1),
    ("MATH", 4),
    ("SCI", 2),
    ("EI", 2),
    ("HG", 1),
    ("EPS", 1),
    ("ART", 1),
]
_COLLEGE = [
    ("AR", 3),
    ("FR", 3),
    ("EN", 2),
    ("MATH", 3),
    ("PC", 2),
    ("SVT", 2),
    ("EI", 2),
    ("HG", 2),
    ("EPS", 1),
    ("TECH", 1),
]
_LYCEE_COMMON = [("AR", 2), ("FR", 4), ("EN", 2), ("EI", 2), ("PHILO", 2), ("EPS", 1)]
_LYCEE_STREAM: dict[str, list[tuple[str, int]]] = {
    "S": [("MATH", 4), ("PC", 4), ("SVT", 4), ("HG", 2), ("TECH", 1)],
    "LSH": [("MATH", 1), ("HG", 4), ("SVT", 1), ("TRAD", 2)],
    "T": [("MATH", 4), ("PC", 4), ("SI", 4), ("TECH", 2)],
    "SE": [("MATH", 4), ("PC", 5), ("SVT", 5), ("HG", 2)],
    "SM": [("MATH", 7), ("PC", 5), ("SVT", 2), ("HG", 2)],
    "SEG": [("MATH", 3), ("ECO", 4), ("COMPTA", 4), ("HG", 2)],
    "PC": [("MATH", 7), ("PC", 7), ("SVT", 5), ("TRAD", 2)],
    "SVT": [("MATH", 7), ("PC", 5), ("SVT", 7), ("TRAD", 2)],
    "SMA": [("MATH", 9), ("PC", 7), ("SI", 2), ("TRAD", 2)],
    "L": [("HG", 3), ("MATH", 1), ("TRAD", 2)],
    "ECO": [("MATH", 4), ("ECO", 6), ("COMPTA", 4), ("HG", 2)],
}


def level_subjects(level: Level) -> list[tuple[str, int]]:
    """Subjects and coefficients of a level (plausible values, not official ones)."""
    if level.cycle == "primaire":
        return list(_PRIMARY)
    if level.cycle == "college":
        return list(_COLLEGE)
    return _LYCEE_COMMON + _LYCEE_STREAM[level.stream or "S"]


LEVEL_SUBJECTS: dict[str, list[tuple[str, int]]] = {lv.code: level_subjects(lv) for lv in LEVELS}

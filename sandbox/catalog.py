"""Fixed reference data: regions, provinces, levels, subjects, names (DOMAIN §1, §2, §7)."""

from __future__ import annotations

from dataclasses import dataclass

REGIONS: list[tuple[str, str, str]] = [
    ("MA-01", "Tanger-Tétouan-Al Hoceïma", "طنجة تطوان الحسيمة"),
    ("MA-02", "L'Oriental", "الشرق"),
    ("MA-03", "Fès-Meknès", "فاس مكناس"),
    ("MA-04", "Rabat-Salé-Kénitra", "الرباط سلا القنيطرة"),
    ("MA-05", "Béni Mellal-Khénifra", "بني ملال خنيفرة"),
    ("MA-06", "Casablanca-Settat", "الدار البيضاء سطات"),
    ("MA-07", "Marrakech-Safi", "مراكش آسفي"),
    ("MA-08", "Drâa-Tafilalet", "درعة تافيلالت"),
    ("MA-09", "Souss-Massa", "سوس ماسة"),
    ("MA-10", "Guelmim-Oued Noun", "كلميم واد نون"),
    ("MA-11", "Laâyoune-Sakia El Hamra", "العيون الساقية الحمراء"),
    ("MA-12", "Dakhla-Oued Ed-Dahab", "الداخلة وادي الذهب"),
]

# (region, name_fr, name_ar, kind)
PROVINCES: list[tuple[str, str, str, str]] = [
    ("MA-01", "Tanger-Assilah", "طنجة أصيلة", "prefecture"),
    ("MA-01", "Tétouan", "تطوان", "province"),
    ("MA-01", "Larache", "العرائش", "province"),
    ("MA-01", "Chefchaouen", "شفشاون", "province"),
    ("MA-02", "Oujda-Angad", "وجدة أنكاد", "prefecture"),
    ("MA-02", "Nador", "الناظور", "province"),
    ("MA-02", "Berkane", "بركان", "province"),
    ("MA-03", "Fès", "فاس", "prefecture"),
    ("MA-03", "Meknès", "مكناس", "prefecture"),
    ("MA-03", "Taza", "تازة", "province"),
    ("MA-04", "Rabat", "الرباط", "prefecture"),
    ("MA-04", "Salé", "سلا", "prefecture"),
    ("MA-04", "Kénitra", "القنيطرة", "province"),
    ("MA-04", "Skhirate-Témara", "الصخيرات تمارة", "prefecture"),
    ("MA-05", "Béni Mellal", "بني ملال", "province"),
    ("MA-05", "Khénifra", "خنيفرة", "province"),
    ("MA-05", "Khouribga", "خريبكة", "province"),
    ("MA-05", "Azilal", "أزيلال", "province"),
    ("MA-06", "Casablanca Anfa", "الدار البيضاء أنفا", "prefecture"),
    ("MA-06", "Casablanca Aïn Chock", "الدار البيضاء عين الشق", "prefecture"),
    ("MA-06", "Settat", "سطات", "province"),
    ("MA-06", "El Jadida", "الجديدة", "province"),
    ("MA-07", "Marrakech", "مراكش", "prefecture"),
    ("MA-07", "Safi", "آسفي", "province"),
    ("MA-07", "El Kelâa des Sraghna", "قلعة السراغنة", "province"),
    ("MA-08", "Errachidia", "الرشيدية", "province"),
    ("MA-08", "Ouarzazate", "ورزازات", "province"),
    ("MA-08", "Tinghir", "تنغير", "province"),
    ("MA-08", "Zagora", "زاكورة", "province"),
    ("MA-09", "Agadir Ida-Outanane", "أكادير إدا وتنان", "prefecture"),
    ("MA-09", "Taroudant", "تارودانت", "province"),
    ("MA-09", "Tiznit", "تيزنيت", "province"),
    ("MA-10", "Guelmim", "كلميم", "province"),
    ("MA-10", "Tan-Tan", "طانطان", "province"),
    ("MA-11", "Laâyoune", "العيون", "province"),
    ("MA-11", "Boujdour", "بوجدور", "province"),
    ("MA-12", "Oued Ed-Dahab", "وادي الذهب", "province"),
]

MALE: list[tuple[str, str]] = [
    ("Mohammed", "محمد"),
    ("Ahmed", "أحمد"),
    ("Youssef", "يوسف"),
    ("Hamza", "حمزة"),
    ("Omar", "عمر"),
    ("Ayoub", "أيوب"),
    ("El Mehdi", "المهدي"),
    ("Anas", "أنس"),
    ("Ilyas", "إلياس"),
    ("Adam", "آدم"),
    ("Othmane", "عثمان"),
    ("Zakaria", "زكرياء"),
    ("Amine", "أمين"),
    ("Yassine", "ياسين"),
    ("Hicham", "هشام"),
    ("Rachid", "رشيد"),
    ("Karim", "كريم"),
    ("Abdellah", "عبد الله"),
    ("Said", "سعيد"),
    ("Mustapha", "مصطفى"),
    ("Ismail", "إسماعيل"),
    ("Badr", "بدر"),
]
FEMALE: list[tuple[str, str]] = [
    ("Fatima-Zahra", "فاطمة الزهراء"),
    ("Khadija", "خديجة"),
    ("Meryem", "مريم"),
    ("Salma", "سلمى"),
    ("Imane", "إيمان"),
    ("Hajar", "هاجر"),
    ("Aya", "آية"),
    ("Sara", "سارة"),
    ("Nouhaila", "نهيلة"),
    ("Hiba", "هبة"),
    ("Yasmine", "ياسمين"),
    ("Ghita", "غيثة"),
    ("Zineb", "زينب"),
    ("Asmae", "أسماء"),
    ("Chaimae", "شيماء"),
    ("Oumaima", "أميمة"),
    ("Soukaina", "سكينة"),
    ("Malak", "ملاك"),
    ("Rania", "رانية"),
    ("Khaoula", "خولة"),
    ("Naima", "نعيمة"),
    ("Latifa", "لطيفة"),
]
FAMILY: list[tuple[str, str]] = [
    ("Alaoui", "العلوي"),
    ("El Idrissi", "الإدريسي"),
    ("Bennani", "بناني"),
    ("Tazi", "التازي"),
    ("Berrada", "برادة"),
    ("El Amrani", "العمراني"),
    ("Chraibi", "الشرايبي"),
    ("El Fassi", "الفاسي"),
    ("Ouazzani", "الوزاني"),
    ("Benjelloun", "بنجلون"),
    ("Lahlou", "لحلو"),
    ("El Mansouri", "المنصوري"),
    ("Naciri", "الناصري"),
    ("Ait Lahcen", "آيت لحسن"),
    ("Ouchen", "أوشن"),
    ("Boutaleb", "بوطالب"),
    ("Zerouali", "الزروالي"),
    ("Kettani", "الكتاني"),
    ("Bakkali", "البقالي"),
    ("Filali", "الفيلالي"),
    ("Moussaoui", "الموساوي"),
    ("El Haddad", "الحداد"),
]

# (cycle, name_fr, name_ar)
SCHOOL_NAMES: dict[str, list[tuple[str, str]]] = {
    "primaire": [
        ("École Ibn Khaldoun", "مدرسة ابن خلدون"),
        ("École Al Farabi", "مدرسة الفارابي"),
        ("Groupe scolaire Annakhil", "مجموعة مدارس النخيل"),
        ("École Al Massira", "مدرسة المسيرة"),
        ("École Ibn Rochd", "مدرسة ابن رشد"),
    ],
    "college": [
        ("Collège Al Massira", "الثانوية الإعدادية المسيرة"),
        ("Collège Ibn Battouta", "الثانوية الإعدادية ابن بطوطة"),
        ("Collège Al Khawarizmi", "الثانوية الإعدادية الخوارزمي"),
        ("Collège Al Idrissi", "الثانوية الإعدادية الإدريسي"),
    ],
    "lycee": [
        ("Lycée Moulay Youssef", "الثانوية التأهيلية مولاي يوسف"),
        ("Lycée Ibn Sina", "الثانوية التأهيلية ابن سينا"),
        ("Lycée Al Khansaa", "الثانوية التأهيلية الخنساء"),
        ("Lycée Hassan II", "الثانوية التأهيلية الحسن الثاني"),
    ],
}


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

# School years: (start year, code, start, s1_end, end)
SCHOOL_YEARS = [
    (2024, "2024-2025", "2024-09-09", "2025-01-31", "2025-06-30"),
    (2025, "2025-2026", "2025-09-08", "2026-01-30", "2026-06-30"),
]
CURRENT_YEAR = 2025

MENTIONS = [(16.0, "tres_bien"), (14.0, "bien"), (12.0, "assez_bien"), (10.0, "passable")]


def mention(average: float | None) -> str | None:
    """The mention for an average out of 20 (DOMAIN §2)."""
    if average is None:
        return None
    for floor, name in MENTIONS:
        if average >= floor:
            return name
    return "insuffisant"


def year_code(start: int) -> str:
    return f"{start}-{start + 1}"


def parse_year(code: str) -> int | None:
    """`2025-2026` -> 2025; None when malformed or inconsistent."""
    if len(code) != 9 or code[4] != "-" or not (code[:4].isdigit() and code[5:].isdigit()):
        return None
    start, end = int(code[:4]), int(code[5:])
    return start if end == start + 1 else None

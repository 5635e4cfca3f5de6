"""Short subject names that fit a handset screen, in French and Arabic: the subject catalogue
the dialogs use when the backend's label is too long for a line (a code such as "SCI" or
"EI" is no name a parent reads). Codes are the sandbox's (DOMAIN.md §8, `subject.code`); a
code not listed keeps the backend's label."""

from __future__ import annotations

SHORT_NAMES: dict[str, tuple[str, str]] = {  # code: (French, Arabic)
    "AR": ("Arabe", "العربية"),
    "FR": ("Français", "الفرنسية"),
    "AMZ": ("Amazigh", "الأمازيغية"),
    "EN": ("Anglais", "الإنجليزية"),
    "MATH": ("Maths", "الرياضيات"),
    "SCI": ("Sciences", "العلوم"),
    "PC": ("Physique-chimie", "الفيزياء"),
    "SVT": ("SVT", "علوم الحياة"),
    "EI": ("Éduc. islamique", "الإسلامية"),
    "HG": ("Histoire-géo", "الاجتماعيات"),
    "EPS": ("Sport", "البدنية"),
    "ART": ("Arts plastiques", "التشكيلية"),
    "MUS": ("Musique", "الموسيقى"),
    "FAM": ("Éduc. familiale", "الأسرية"),
    "TECH": ("Technologie", "التكنولوجيا"),
    "PHILO": ("Philosophie", "الفلسفة"),
    "TRAD": ("Traduction", "الترجمة"),
    "ECO": ("Économie", "الاقتصاد"),
    "COMPTA": ("Comptabilité", "المحاسبة"),
    "SI": ("Sc. ingénieur", "علوم المهندس"),
}


def short_name(code: str, lang: str, label: str) -> str:
    """The short name of subject `code` in `lang`, else the backend's `label`."""
    names = SHORT_NAMES.get(code)
    if names is None:
        return label
    return names[0] if lang == "fr" else names[1]

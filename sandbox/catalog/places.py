"""Regions, provinces and school names."""

from __future__ import annotations

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

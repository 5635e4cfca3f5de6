"""Reference rows: regions, provinces, years, levels, subjects, schools, demo families."""

from __future__ import annotations

from sandbox import catalog, demo
from sandbox.seed.base import Rows
from sandbox.seed.enrolment import write_history
from sandbox.seed.plan import SchoolPlan


def reference_rows(plan: list[SchoolPlan]) -> Rows:
    rows = Rows()
    for code, fr, ar in catalog.REGIONS:
        rows["region"].append((code, fr, ar, f"AREF {fr}", f"الأكاديمية الجهوية {ar}"))
    for i, (reg, fr, ar, kind) in enumerate(catalog.PROVINCES, 1):
        rows["province"].append((i, reg, fr, ar, kind))
    for start, code, d0, s1, end in catalog.SCHOOL_YEARS:
        rows["school_year"].append((start, code, d0, s1, end))
    for lv in catalog.LEVELS:
        rows["level"].append((lv.code, lv.cycle, lv.stream, lv.order, lv.name_fr, lv.name_ar))
        for code, coef in catalog.LEVEL_SUBJECTS[lv.code]:
            rows["level_subject"].append((lv.code, code, coef, coef + 1))
    for code, fr, ar in catalog.SUBJECTS:
        rows["subject"].append((code, fr, ar))
    for s in plan:
        prov_fr = catalog.PROVINCES[s.province_id - 1][1]
        rows["school"].append(
            (
                s.id,
                f"SBX{s.id:06d}",
                s.name_fr,
                s.name_ar,
                s.cycle,
                s.province_id,
                prov_fr,
                s.setting,
                s.pass_threshold,
            )
        )
    for g in demo.GUARDIANS:
        rows["guardian"].append(
            (
                g.id,
                g.first_name_fr,
                g.first_name_ar,
                g.last_name_fr,
                g.last_name_ar,
                f"ZZ{g.id:06d}",
                g.preferred_lang,
            )
        )
        rows["guardian_phone"].append((g.id, g.id, g.phone, "iam", 1))
    for app_id, number, status, ffr, far, lfr, lar, dob, gid, history in demo.APPLICATIONS:
        decided = history[-1][1] if status == "approved" else None
        rows["enrolment_application"].append(
            (
                app_id,
                number,
                "first_grade",
                "2026-2027",
                ffr,
                far,
                lfr,
                lar,
                dob,
                gid,
                1,
                1 if status == "approved" else None,
                status,
                None,
                None,
                None,
                history[0][1],
                decided,
            )
        )
        write_history(rows, app_id, [(to, at, actor, None) for to, at, actor in history])
    return rows

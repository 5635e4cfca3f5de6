"""People: families (guardians, their phones, their links to children) and students."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from sandbox import catalog, demo, ids
from sandbox.seed.base import NOISE, Context, Rows
from sandbox.seed.enrolment import first_grade_application

_OPERATORS = ["iam", "orange", "inwi", "iam", "orange", "inwi", "other"]

# (last name fr, ar, [(guardian id, relation)], father's first name fr, ar)
Family = tuple[str, str, list[tuple[int, str]], str, str]


def _birth_dates(year: int) -> list[str]:
    start = date(year, 1, 1)
    return [(start + timedelta(days=d)).isoformat() for d in range(365)]


def family_of(
    rng: random.Random,
    ctx: Context,
    sid: int,
    families: list[Family],
    rows: Rows,
    events: list[tuple[Any, ...]],
) -> Family:
    """A sibling's family now and then (one of the school's recent ones), else a new family."""
    if families and rng.random() < 0.15:
        return families[rng.getrandbits(16) % len(families)]
    family = _new_family(rng, ctx, sid, rows, events)
    families.append(family)
    if len(families) > 300:
        del families[:100]
    return family


def _new_family(
    rng: random.Random, ctx: Context, sid: int, rows: Rows, events: list[tuple[Any, ...]]
) -> Family:
    """One to three guardians (ids 3s..3s+2, phones 2g, 2g+1), maybe a sibling's application."""
    getbits = rng.getrandbits
    out_guardian = rows["guardian"]
    out_phone = rows["guardian_phone"]
    last_fr, last_ar = catalog.FAMILY[getbits(16) % 22]
    links: list[tuple[int, str]] = []
    g0 = 3 * sid
    shape = getbits(4)  # 0-5: one guardian, 6-14: two, 15: three
    members = (
        [("mother",)] if shape < 3 else [("father",)] if shape < 6 else [("father",), ("mother",)]
    )
    if shape == 15:
        members.append(("tutor",))
    father_fr, father_ar = catalog.MALE[getbits(16) % 22]
    for k, (rel,) in enumerate(members):
        gid = g0 + k
        if rel == "father":
            gf, ga, lf, la = father_fr, father_ar, last_fr, last_ar
        elif rel == "mother":
            gf, ga = catalog.FEMALE[getbits(16) % 22]
            lf, la = catalog.FAMILY[getbits(16) % 22]
        else:
            gf, ga = catalog.MALE[getbits(16) % 22]
            lf, la = catalog.FAMILY[getbits(16) % 22]
        lang = "fr" if getbits(3) < 3 else "ar"
        out_guardian.append((gid, gf, ga, lf, la, f"ZZ{getbits(20):06d}", lang))
        out_phone.append((2 * gid, gid, ids.phone_e164(2 * gid), _OPERATORS[getbits(8) % 7], 1))
        if getbits(4) == 0:
            out_phone.append(
                (
                    2 * gid + 1,
                    gid,
                    ids.phone_e164(2 * gid + 1),
                    _OPERATORS[getbits(8) % 7],
                    0,
                )
            )
        links.append((gid, rel))
    # a younger sibling's first-grade pre-registration (2026 window)
    if getbits(5) == 0 and ctx.primary_school_ids:
        first_grade_application(rng, ctx, sid, links[0][0], last_fr, last_ar, rows, events)
    return (last_fr, last_ar, links, father_fr, father_ar)


def random_student(
    rng: random.Random,
    ctx: Context,
    sid: int,
    class_id: int,
    family: Family,
    born: int,
    home: tuple[str, str],
    repeater: bool,
) -> tuple[tuple[Any, ...], float]:
    """A random student's row and ability (in quarter points)."""
    getbits = rng.getrandbits
    last_fr, last_ar, _links, father_fr, father_ar = family
    male = getbits(1) == 0
    first_fr, first_ar = (catalog.MALE if male else catalog.FEMALE)[getbits(16) % 22]
    bd = ctx.birth_dates.get(born)
    if bd is None:
        bd = ctx.birth_dates[born] = _birth_dates(born)
    place_fr, place_ar = (
        home if getbits(3) else ctx.province_names[getbits(16) % len(ctx.province_names)]
    )
    row = (
        sid,
        ids.massar_code(sid),
        first_fr,
        first_ar,
        last_fr,
        last_ar,
        father_fr,
        father_ar,
        "M" if male else "F",
        bd[getbits(16) % 365],
        place_fr,
        place_ar,
        "active",
        class_id,
    )
    ability4 = (11.5 + NOISE[getbits(12)] * 0.65 / 4 + (-2.5 if repeater else 0)) * 4
    return row, ability4


def demo_student(
    dm: demo.DemoStudent, class_id: int, home: tuple[str, str]
) -> tuple[tuple[Any, ...], list[tuple[int, str]], float]:
    """A demo student's fixed row, guardian links and ability (in quarter points)."""
    sid = dm.id
    links = [(g.id, rel) for g in demo.GUARDIANS for s_id, rel in g.children if s_id == sid]
    father_fr, father_ar = ("Rachid", "رشيد") if sid != 3 else ("Karim", "كريم")
    row = (
        sid,
        dm.massar_code,
        dm.first_name_fr,
        dm.first_name_ar,
        dm.last_name_fr,
        dm.last_name_ar,
        father_fr,
        father_ar,
        dm.gender,
        dm.birth_date,
        home[0],
        home[1],
        "active",
        class_id,
    )
    return row, links, dm.ability * 4

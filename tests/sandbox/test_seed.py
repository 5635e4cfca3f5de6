"""Deterministic synthetic data, number plans, demo accounts and the CLI."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from sandbox import cli, db, ids
from tests.sandbox.conftest import SEED, seed_file


def digest(url: str) -> str:
    engine = db.make_engine(url)
    h = hashlib.sha256()
    with engine.connect() as conn:
        for query in (
            "SELECT * FROM student ORDER BY id LIMIT 40",
            "SELECT * FROM guardian_phone ORDER BY id LIMIT 40",
            "SELECT * FROM cc_mark ORDER BY student_id, school_year, semester, subject_code"
            " LIMIT 200",
            "SELECT * FROM absence ORDER BY id LIMIT 100",
            "SELECT * FROM change_event ORDER BY seq LIMIT 50",
            "SELECT count(*) FROM cc_mark",
        ):
            for row in conn.exec_driver_sql(query):
                h.update(repr(tuple(row)).encode())
    engine.dispose()
    return h.hexdigest()


def test_same_seed_gives_same_data_and_another_seed_differs(
    seeded_path: Path, tmp_path: Path
) -> None:
    again = seed_file(tmp_path / "again.db")
    other = seed_file(tmp_path / "other.db", seed=SEED + 1)
    assert digest(f"sqlite:///{seeded_path}") == digest(again)
    assert digest(f"sqlite:///{seeded_path}") != digest(other)


def test_number_plans_and_demo_accounts(seeded_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{seeded_path}")
    with engine.connect() as conn:
        codes = [r[0] for r in conn.exec_driver_sql("SELECT massar_code FROM student")]
        phones = [r[0] for r in conn.exec_driver_sql("SELECT e164 FROM guardian_phone")]
        numbers = [r[0] for r in conn.exec_driver_sql("SELECT number FROM enrolment_application")]
        per_student = conn.exec_driver_sql(
            "SELECT min(c), max(c) FROM"
            " (SELECT count(*) c FROM guardian_student GROUP BY student_id)"
        ).one()
        demo = dict(
            conn.exec_driver_sql("SELECT massar_code, birth_date FROM student WHERE id <= 3").all()
        )
    engine.dispose()
    assert len(codes) == 203
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"Z99[0-9]{7}", c) for c in codes)
    assert len(set(phones)) == len(phones)
    assert all(re.fullmatch(r"\+212[67]000[0-9]{5}", p) for p in phones)
    assert {"+212600000001", "+212600000002", "+212600000099"} <= set(phones)
    random_phones = [p for p in phones if int(p[-5:]) >= 1000]
    assert (
        len(random_phones) == len(phones) - 4
    )  # only the four demo phones sit in the reserved range
    assert {"PRE-2026-0000001", "PRE-2026-0000002"} <= set(numbers)
    assert len(set(numbers)) == len(numbers)
    assert per_student[0] >= 1
    assert per_student[1] <= 3
    assert demo == {
        "Z990000001": "2018-09-14",
        "Z990000002": "2008-05-02",
        "Z990000003": "2012-03-14",
    }


def test_random_codes_never_use_the_reserved_range() -> None:
    assert all(int(ids.massar_code(n)[3:]) >= 1000 for n in range(11, 50_000, 7))
    assert all(int(ids.phone_e164(k)[-5:]) >= 1000 for k in range(0, 400_000, 13))
    assert ids.phone_e164(66) != ids.phone_e164(67)


def test_public_ids_round_trip_and_reject_foreign_text() -> None:
    for n in (1, 2, 3, 11, 999_999, 16_000_015):
        assert ids.decode("stu", ids.encode("stu", n)) == n
    assert ids.decode("stu", ids.encode("gdn", 5)) is None
    assert ids.decode("stu", "stu_Z990000001") is None or ids.decode("stu", "stu_Z990000001") != 1


def test_cli_seed_and_accounts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    assert cli.main(["seed", "--students", "30", "--database-url", url]) == 0
    engine = db.make_engine(url)
    assert db.is_seeded(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(db.student)).scalar_one() == 33
    engine.dispose()
    capsys.readouterr()
    assert cli.main(["accounts"]) == 0
    out = capsys.readouterr().out
    for fact in (
        "+212600000001",
        "Z990000001",
        "Z990000002",
        "Z990000003",
        "PRE-2026-0000001",
        "PRE-2026-0000002",
        "+212600000099",
        "empty students list",
        ids.encode("stu", 1),
    ):
        assert fact in out

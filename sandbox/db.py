"""Tables (SQLAlchemy Core), engines and the indexes built after bulk loading.

Deviations from DOMAIN §8, for seeding speed: continuous-assessment marks are one `cc_mark` row per
(student, year, semester, subject) with columns devoir_1..devoir_4 and activites (the portal's CC
table shape) and the subject average; class statistics live in `class_subject_stat`; dates and
timestamps are ISO 8601 text (timestamps always with the +01:00 offset, so text order is time
order); booleans are 0/1; school years are keyed by their start year (2025 = 2025-2026).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

metadata = sa.MetaData()
_NR = {"sqlite_with_rowid": False}

region = sa.Table(
    "region",
    metadata,
    sa.Column("code", sa.String(8), primary_key=True),
    sa.Column("name_fr", sa.String),
    sa.Column("name_ar", sa.String),
    sa.Column("aref_name_fr", sa.String),
    sa.Column("aref_name_ar", sa.String),
)
province = sa.Table(
    "province",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("region_code", sa.String(8)),
    sa.Column("name_fr", sa.String),
    sa.Column("name_ar", sa.String),
    sa.Column("kind", sa.String(12)),
)
school = sa.Table(
    "school",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(16)),
    sa.Column("name_fr", sa.String),
    sa.Column("name_ar", sa.String),
    sa.Column("cycle", sa.String(10)),
    sa.Column("province_id", sa.Integer),
    sa.Column("commune", sa.String),
    sa.Column("setting", sa.String(6)),
    sa.Column("pass_threshold", sa.Float),
)
school_year = sa.Table(
    "school_year",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("code", sa.String(9)),
    sa.Column("start", sa.String(10)),
    sa.Column("s1_end", sa.String(10)),
    sa.Column("end", sa.String(10)),
)
level = sa.Table(
    "level",
    metadata,
    sa.Column("code", sa.String(10), primary_key=True),
    sa.Column("cycle", sa.String(10)),
    sa.Column("stream", sa.String(6)),
    sa.Column("ord", sa.Integer),
    sa.Column("name_fr", sa.String),
    sa.Column("name_ar", sa.String),
)
subject = sa.Table(
    "subject",
    metadata,
    sa.Column("code", sa.String(8), primary_key=True),
    sa.Column("name_fr", sa.String),
    sa.Column("name_ar", sa.String),
)
level_subject = sa.Table(
    "level_subject",
    metadata,
    sa.Column("level_code", sa.String(10), primary_key=True),
    sa.Column("subject_code", sa.String(8), primary_key=True),
    sa.Column("coefficient", sa.Integer),
    sa.Column("weekly_hours", sa.Integer),
)
class_section = sa.Table(
    "class_section",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("school_id", sa.Integer),
    sa.Column("school_year", sa.Integer),
    sa.Column("level_code", sa.String(10)),
    sa.Column("label", sa.String(16)),
    sa.Column("headcount", sa.Integer),
)
student = sa.Table(
    "student",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("massar_code", sa.String(10), nullable=False),
    sa.Column("first_name_fr", sa.String),
    sa.Column("first_name_ar", sa.String),
    sa.Column("last_name_fr", sa.String),
    sa.Column("last_name_ar", sa.String),
    sa.Column("father_name_fr", sa.String),
    sa.Column("father_name_ar", sa.String),
    sa.Column("gender", sa.String(1)),
    sa.Column("birth_date", sa.String(10)),
    sa.Column("birth_place_fr", sa.String),
    sa.Column("birth_place_ar", sa.String),
    sa.Column("status", sa.String(12)),
    sa.Column("class_id", sa.Integer),
)
enrollment = sa.Table(
    "enrollment",
    metadata,
    sa.Column("student_id", sa.Integer, primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("class_id", sa.Integer),
    sa.Column("reregistration_status", sa.String(12)),
    **_NR,
)
guardian = sa.Table(
    "guardian",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("first_name_fr", sa.String),
    sa.Column("first_name_ar", sa.String),
    sa.Column("last_name_fr", sa.String),
    sa.Column("last_name_ar", sa.String),
    sa.Column("cnie_synthetic", sa.String(12)),
    sa.Column("preferred_lang", sa.String(2)),
)
guardian_phone = sa.Table(
    "guardian_phone",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("guardian_id", sa.Integer),
    sa.Column("e164", sa.String(16), nullable=False),
    sa.Column("operator", sa.String(8)),
    sa.Column("is_primary", sa.SmallInteger),
)
guardian_student = sa.Table(
    "guardian_student",
    metadata,
    sa.Column("guardian_id", sa.Integer, primary_key=True),
    sa.Column("student_id", sa.Integer, primary_key=True),
    sa.Column("relation", sa.String(8)),
    sa.Column("is_legal_guardian", sa.SmallInteger),
    sa.Column("may_notify", sa.SmallInteger),
    **_NR,
)
cc_mark = sa.Table(
    "cc_mark",
    metadata,
    sa.Column("student_id", sa.Integer, primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("semester", sa.SmallInteger, primary_key=True),
    sa.Column("subject_code", sa.String(8), primary_key=True),
    sa.Column("class_id", sa.Integer),
    sa.Column("devoir_1", sa.Float),
    sa.Column("devoir_2", sa.Float),
    sa.Column("devoir_3", sa.Float),
    sa.Column("devoir_4", sa.Float),
    sa.Column("activites", sa.Float),
    sa.Column("n_devoirs", sa.SmallInteger),
    sa.Column("absent_mask", sa.SmallInteger),
    sa.Column("average", sa.Float),
    **_NR,
)
class_subject_stat = sa.Table(
    "class_subject_stat",
    metadata,
    sa.Column("class_id", sa.Integer, primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("semester", sa.SmallInteger, primary_key=True),
    sa.Column("subject_code", sa.String(8), primary_key=True),
    sa.Column("class_avg", sa.Float),
    sa.Column("class_min", sa.Float),
    sa.Column("class_max", sa.Float),
    **_NR,
)
semester_result = sa.Table(
    "semester_result",
    metadata,
    sa.Column("student_id", sa.Integer, primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("semester", sa.SmallInteger, primary_key=True),
    sa.Column("average", sa.Float),
    sa.Column("rank", sa.Integer),
    sa.Column("published_at", sa.String(25)),
    **_NR,
)
year_result = sa.Table(
    "year_result",
    metadata,
    sa.Column("student_id", sa.Integer, primary_key=True),
    sa.Column("school_year", sa.Integer, primary_key=True),
    sa.Column("average", sa.Float),
    sa.Column("decision", sa.String(10)),
    sa.Column("orientation_stream", sa.String(10)),
    sa.Column("published_at", sa.String(25)),
    **_NR,
)
absence = sa.Table(
    "absence",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("student_id", sa.Integer),
    sa.Column("class_id", sa.Integer),
    sa.Column("date", sa.String(10)),
    sa.Column("start_time", sa.String(5)),
    sa.Column("end_time", sa.String(5)),
    sa.Column("hours", sa.Float),
    sa.Column("subject_code", sa.String(8)),
    sa.Column("kind", sa.String(8)),
    sa.Column("status", sa.String(12)),
    sa.Column("reason_code", sa.String(16)),
    sa.Column("recorded_at", sa.String(25)),
    sa.Column("justified_at", sa.String(25)),
)
enrolment_application = sa.Table(
    "enrolment_application",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("number", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(16)),
    sa.Column("school_year", sa.String(9)),
    sa.Column("child_first_name_fr", sa.String),
    sa.Column("child_first_name_ar", sa.String),
    sa.Column("child_last_name_fr", sa.String),
    sa.Column("child_last_name_ar", sa.String),
    sa.Column("child_birth_date", sa.String(10)),
    sa.Column("guardian_id", sa.Integer),
    sa.Column("requested_school_id", sa.Integer),
    sa.Column("assigned_school_id", sa.Integer),
    sa.Column("status", sa.String(24)),
    sa.Column("rejection_reason", sa.String(32)),
    sa.Column("waitlist_position", sa.Integer),
    sa.Column("student_id", sa.Integer),
    sa.Column("submitted_at", sa.String(25)),
    sa.Column("decided_at", sa.String(25)),
)
enrolment_status_history = sa.Table(
    "enrolment_status_history",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("application_id", sa.BigInteger),
    sa.Column("from_status", sa.String(24)),
    sa.Column("to_status", sa.String(24)),
    sa.Column("reason", sa.String(32)),
    sa.Column("actor", sa.String(10)),
    sa.Column("at", sa.String(25)),
)
change_event = sa.Table(
    "change_event",
    metadata,
    sa.Column(
        "seq",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("type", sa.String(32)),
    sa.Column("occurred_at", sa.String(25)),
    sa.Column("student_id", sa.Integer),
    sa.Column("guardian_ids", sa.Text),
    sa.Column("data", sa.Text),
)
verification_counter = sa.Table(
    "verification_counter",
    metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("failures", sa.Integer),
    sa.Column("window_start", sa.String(25)),
    sa.Column("locked_until", sa.String(25)),
)
sandbox_meta = sa.Table(
    "sandbox_meta",
    metadata,
    sa.Column("key", sa.String(32), primary_key=True),
    sa.Column("value", sa.Text),
)

# Built after loading (building them during the load would slow it down).
INDEXES = [
    sa.Index("ux_student_massar_code", student.c.massar_code, unique=True),
    sa.Index("ix_student_class", student.c.class_id),
    sa.Index("ux_guardian_phone_e164", guardian_phone.c.e164, unique=True),
    sa.Index("ix_guardian_phone_guardian", guardian_phone.c.guardian_id),
    sa.Index("ix_guardian_student_student", guardian_student.c.student_id),
    sa.Index("ix_absence_student_date", absence.c.student_id, absence.c.date, absence.c.id),
    sa.Index("ux_application_number", enrolment_application.c.number, unique=True),
    sa.Index("ix_application_guardian", enrolment_application.c.guardian_id),
    sa.Index("ix_application_student", enrolment_application.c.student_id),
    sa.Index("ix_history_application", enrolment_status_history.c.application_id),
    sa.Index("ix_change_event_occurred", change_event.c.occurred_at),
]


def make_engine(url: str, *, schema: str | None = None, pool_size: int = 8) -> Engine:
    """An engine for SQLite (file, WAL) or PostgreSQL (psycopg), optionally in a schema."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            pool_size=pool_size,
            max_overflow=16,
        )

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        return engine
    connect_args = {"options": f"-csearch_path={schema}"} if schema else {}
    return sa.create_engine(url, connect_args=connect_args, pool_size=pool_size, max_overflow=16)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def create_schema(engine: Engine, schema: str | None = None) -> None:
    """Drop and create every table (no secondary indexes yet)."""
    if schema and not is_sqlite(engine):
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    metadata.drop_all(engine)
    metadata.create_all(engine)


def create_indexes(engine: Engine) -> None:
    with engine.begin() as conn:
        for index in INDEXES:
            index.create(conn, checkfirst=True)
        if is_sqlite(engine):
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            # keep the sequence ahead of the seeded events
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('change_event', 'seq'), "
                "COALESCE((SELECT max(seq) FROM change_event), 0) + 1, false)"
            )


def is_seeded(engine: Engine) -> bool:
    """True when the database holds a complete seed."""
    if not sa.inspect(engine).has_table("sandbox_meta"):
        return False
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(sandbox_meta.c.value).where(sandbox_meta.c.key == "complete")
        ).first()
    return row is not None

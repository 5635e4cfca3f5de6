"""`python -m gateway rekey`: move every stored hash to the newest identity key generation.

A row under generation g holds `h_g`; it becomes `h_n` = the chain's next links over it
(`KeyRing.advance`), computed from the stored value alone: no phone is needed, none is read.
Tables are walked in primary-key order, `batch` rows per transaction; each transaction also
records how far it got (`identity_key.progress`), so a stopped rekey resumes where it stood,
and a row's `key_gen` says whether it moved, so nothing moves twice (a row a process adopted
meanwhile, gateway/state/adopt.py, is skipped). When every table is done, no row is left under
an older generation (checked) and the generation is marked rekeyed: processes started from
then on read under the newest chain alone. A second run is a no-op.

Two rows of one phone under two generations (a process with the old configuration wrote
after a process with the new one): the later one (its time column) stays, the other goes.
Supervisors' sealed TOTP secrets are sealed again under the newest key (their owners' names
are stored); Telegram links are sealed with the chat id, which is not stored: each is sealed
again when its chat next writes (gateway/state/telegram_links.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from gateway.state.console.operators import OperatorStore
from gateway.state.identity import registry
from gateway.state.keyring import KeyRing
from gateway.state.schema import (
    alert_held,
    alert_preference,
    identity_key,
    outbound_message,
    phone_binding,
    telegram_link,
)

__all__ = ["HASHED", "Hashed", "RekeyReport", "left_behind", "rekey"]

PASSES = 3  # walks of a table before giving up on rows written behind the walk


@dataclass(frozen=True, slots=True)
class Hashed:
    """A table holding hashes: its hash column, primary key, the unique key the hash is in
    (None: not unique) and the time that decides which of two rows of one phone stays."""

    table: sa.Table
    column: str
    pk: tuple[str, ...]
    unique: tuple[str, ...] | None
    when: str | None

    @property
    def name(self) -> str:
        return self.table.name


HASHED = (
    Hashed(
        phone_binding, "phone_h", ("phone_h", "student_id"), ("phone_h", "student_id"), "bound_at"
    ),
    Hashed(alert_preference, "phone_h", ("phone_h",), ("phone_h",), "updated_at"),
    Hashed(alert_held, "phone_h", ("id",), ("event_id", "phone_h"), "created_at"),
    Hashed(telegram_link, "chat_h", ("chat_h",), ("chat_h",), "linked_at"),
    Hashed(outbound_message, "to_h", ("id",), None, None),
)


@dataclass(slots=True)
class RekeyReport:
    gen: int
    moved: dict[str, int] = field(default_factory=dict)
    merged: dict[str, int] = field(default_factory=dict)  # rows dropped for a later twin
    resealed: int = 0
    done: bool = False
    already: bool = False  # the generation was rekeyed before this run


def left_behind(engine: sa.Engine, gen: int) -> dict[str, int]:
    """Rows per table still under a generation older than `gen`."""
    with engine.connect() as conn:
        return {
            spec.name: int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(spec.table)
                    .where(spec.table.c.key_gen < gen)
                ).scalar_one()
            )
            for spec in HASHED
        }


def rekey(
    engine: sa.Engine,
    ring: KeyRing,
    *,
    batch: int = 500,
    max_batches: int | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RekeyReport:
    """Move every row to `ring`'s generation (blocking). `max_batches`: stop after that many
    transactions (the next run resumes). The registry must know the generation
    (`open_keyring` ran)."""
    gen = ring.gen
    report = RekeyReport(gen=gen)
    with engine.connect() as conn:
        row = registry(conn).get(gen)
    if row is None:
        raise ValueError(f"identity key generation {gen} is not registered")
    if row.rekeyed_at is not None:
        report.done = report.already = True
        return report
    progress: dict[str, Any] = json.loads(row.progress or "{}")
    budget = [max_batches]
    for _ in range(PASSES):
        for spec in HASHED:
            if not _walk(engine, ring, spec, progress, report, batch, budget):
                return report
        report.resealed += OperatorStore(engine, key_secret=ring).reseal_all()
        left = {name: n for name, n in left_behind(engine, gen).items() if n}
        if not left:
            with engine.begin() as conn:
                conn.execute(
                    sa.update(identity_key)
                    .where(identity_key.c.gen == gen)
                    .values(rekeyed_at=now(), progress=json.dumps({s.name: "done" for s in HASHED}))
                )
            report.done = True
            return report
        for name in left:  # written behind the walk (an old process): walk those again
            progress.pop(name, None)
    return report


def _walk(
    engine: sa.Engine,
    ring: KeyRing,
    spec: Hashed,
    progress: dict[str, Any],
    report: RekeyReport,
    batch: int,
    budget: list[int | None],
) -> bool:
    """Walk one table from where it stood; False when the batch budget ran out."""
    table = spec.table
    pk = [table.c[name] for name in spec.pk]
    report.moved.setdefault(spec.name, 0)
    report.merged.setdefault(spec.name, 0)
    while progress.get(spec.name) != "done":
        if budget[0] is not None:
            if budget[0] <= 0:
                return False
            budget[0] -= 1
        after = progress.get(spec.name)
        needed = dict.fromkeys([*spec.pk, spec.column, "key_gen", *(spec.unique or ())])
        if spec.when:
            needed[spec.when] = None
        query = sa.select(*[table.c[n] for n in needed]).where(table.c.key_gen < ring.gen)
        if after is not None:
            query = query.where(sa.tuple_(*pk) > sa.tuple_(*after))
        with engine.begin() as conn:
            rows = conn.execute(query.order_by(*pk).limit(batch)).all()
            if rows:
                _move(conn, ring, spec, rows, report)
            progress[spec.name] = [getattr(rows[-1], n) for n in spec.pk] if rows else "done"
            conn.execute(
                sa.update(identity_key)
                .where(identity_key.c.gen == ring.gen)
                .values(progress=json.dumps(progress))
            )
    return True


def _by_pk(spec: Hashed, row: Any) -> list[sa.ColumnElement[bool]]:
    return [spec.table.c[name] == getattr(row, name) for name in spec.pk]


def _later(spec: Hashed, mine: Any, theirs: Any) -> bool:
    """Whether row `mine` was written after row `theirs` (it stays, the other goes)."""
    a = getattr(mine, spec.when) if spec.when else None
    b = getattr(theirs, spec.when) if spec.when else None
    return a is not None and b is not None and a > b


def _move(
    conn: sa.Connection, ring: KeyRing, spec: Hashed, rows: Sequence[Any], report: RekeyReport
) -> None:
    """Move one batch: one query for twins, one `executemany` for the rest."""
    table = spec.table
    moving = {id(row): (row, ring.advance(getattr(row, spec.column), row.key_gen)) for row in rows}
    if spec.unique is not None:
        unique = spec.unique

        def key(row: Any, new_h: str) -> tuple[Any, ...]:
            return tuple(new_h if c == spec.column else getattr(row, c) for c in unique)

        found = conn.execute(
            sa.select(table).where(table.c[spec.column].in_([h for _, h in moving.values()]))
        )
        twins: dict[tuple[Any, ...], Any] = {key(t, getattr(t, spec.column)): t for t in found}
        claimed: dict[tuple[Any, ...], Any] = {}
        for row, new_h in list(moving.values()):
            k = key(row, new_h)
            other = twins.get(k)
            if other is None and k in claimed:  # two old rows of one phone in this batch
                other = claimed[k]
            if other is None:
                claimed[k] = row
                continue
            report.merged[spec.name] += 1
            loser = other if _later(spec, row, other) else row
            conn.execute(sa.delete(table).where(*_by_pk(spec, loser)))
            moving.pop(id(loser), None)
            if loser is other:
                twins.pop(k, None)
                claimed[k] = row
    if not moving:
        return
    statement = (
        sa.update(table)
        .where(
            *[table.c[n] == sa.bindparam(f"b_{n}") for n in spec.pk],
            table.c.key_gen == sa.bindparam("b_gen"),
        )
        .values({spec.column: sa.bindparam("b_new"), "key_gen": ring.gen})
    )
    params = [
        {**{f"b_{n}": getattr(row, n) for n in spec.pk}, "b_gen": row.key_gen, "b_new": new_h}
        for row, new_h in moving.values()
    ]
    result = conn.execute(statement, params)
    report.moved[spec.name] += result.rowcount if result.rowcount >= 0 else len(params)

"""Bulk inserts of the generated rows."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.engine import Engine

from sandbox import db
from sandbox.seed.base import Rows


class Writer:
    """Bulk inserts of plain tuples: sqlite3 executemany, or PostgreSQL COPY."""

    def __init__(self, engine: Engine) -> None:
        self.sqlite = db.is_sqlite(engine)
        self.raw = engine.raw_connection()
        if self.sqlite:
            cur = self.raw.cursor()
            for pragma in (
                "journal_mode=OFF",
                "synchronous=OFF",
                "cache_size=-400000",
                "temp_store=MEMORY",
            ):
                cur.execute(f"PRAGMA {pragma}")
            cur.close()
        self.count: dict[str, int] = defaultdict(int)

    def write(self, rows: Rows) -> None:
        cur = self.raw.cursor()
        for name, data in rows.items():
            if not data:
                continue
            table = db.metadata.tables[name]
            cols = [c.name for c in table.columns]
            if self.sqlite:
                marks = ",".join("?" * len(cols))
                cur.executemany(f"INSERT INTO {name} VALUES ({marks})", data)  # noqa: S608 - table names are ours
            else:
                quoted = ", ".join(f'"{c}"' for c in cols)
                with cur.copy(f"COPY {name} ({quoted}) FROM STDIN") as copy:
                    for r in data:
                        copy.write_row(r)
            self.count[name] += len(data)
        cur.close()
        self.raw.commit()
        rows.clear()

    def close(self) -> None:
        if self.sqlite:
            cur = self.raw.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.close()
        self.raw.close()

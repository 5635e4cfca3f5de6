"""The fingerprint of pyproject.toml's dependencies, which the lock files were compiled from.

    python requirements/stamp.py          # print it
    python requirements/stamp.py --check  # exit 1 with one line when the lock is out of date

`make lock` writes it to requirements/pyproject.sha256 beside the compiled files; `make run`,
`make test` and `make bench` check it before installing, so a dependency added to
pyproject.toml without `make lock` stops the install instead of installing unlocked versions.
Only what the lock depends on is hashed (requires-python, dependencies, optional-dependencies),
not the tools' settings further down the file.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
PYPROJECT = HERE.parent / "pyproject.toml"
STAMP = HERE / "pyproject.sha256"


def fingerprint(pyproject: Path = PYPROJECT) -> str:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    locked = {
        "requires-python": project.get("requires-python"),
        "dependencies": sorted(project.get("dependencies", [])),
        "optional-dependencies": {
            k: sorted(v) for k, v in sorted(project.get("optional-dependencies", {}).items())
        },
    }
    return hashlib.sha256(json.dumps(locked, sort_keys=True).encode()).hexdigest()


def main(argv: list[str]) -> int:
    if "--check" not in argv:
        sys.stdout.write(fingerprint() + "\n")
        return 0
    recorded = STAMP.read_text(encoding="utf-8").strip() if STAMP.exists() else ""
    if recorded != fingerprint():
        sys.stderr.write(
            "requirements/*.txt are out of date with pyproject.toml's dependencies:"
            " run `make lock`\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Reading the deploy kit's files in tests: systemd units as (section, key, value) lines, the
tools the checks run (found on PATH or where Debian puts them), and free ports."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"


def tool(name: str) -> str | None:
    """The path of `name`: on PATH, or in Debian's sbin (nginx is /usr/sbin/nginx)."""
    found = shutil.which(name)
    if found is not None:
        return found
    for folder in ("/usr/sbin", "/sbin", "/usr/bin"):
        candidate = Path(folder) / name
        if candidate.is_file():
            return str(candidate)
    return None


def why_missing(name: str, package: str) -> str:
    return f"{name} not found (Debian's `{package}` package; `make test` installs it as root)"


def unit_lines(path: Path) -> list[tuple[str, str, str]]:
    """Every `Key=value` of a unit file with its section, in order (keys may repeat)."""
    lines: list[tuple[str, str, str]] = []
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a Key=value line: {raw!r}"
        lines.append((section, key.strip(), value.strip()))
    return lines


def values(path: Path, section: str, key: str) -> list[str]:
    return [v for s, k, v in unit_lines(path) if (s, k) == (section, key)]


def environment(path: Path) -> dict[str, str]:
    """The unit's `Environment=` assignments (space-separated NAME=value each)."""
    found: dict[str, str] = {}
    for line in values(path, "Service", "Environment"):
        for pair in line.split():
            name, _, value = pair.partition("=")
            found[name] = value
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port

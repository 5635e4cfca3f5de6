"""The documentation stays true to a fresh clone (issue #25, item 8).

- The README is read in five minutes: under 200 lines.
- Every relative link of the README, `docs/*.md` and `bench/README.md` names a file of the
  repository: inside it (no `../shared/…` design notes a clone does not have), present, and
  not ignored by git (a clone would not have `bench/results/latest.json`). A link's anchor is
  checked against the headings of the Markdown file it names, as GitHub makes their ids.
- `docs/configuration.md` names every `GATEWAY_*` and `SANDBOX_*` setting, and no page names
  a variable that is not one.

Links are read by a CommonMark parser (markdown-it-py), so links inside code are not links and
reference-style links count.
"""

from __future__ import annotations

import itertools
import re
import shutil
import subprocess
import unicodedata
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

from gateway.settings import Settings
from sandbox.settings import SandboxSettings

ROOT = Path(__file__).resolve().parents[1]
README_MAX_LINES = 200
PAGES = sorted([ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")])
# A variable named in full: not a prefix of a longer name, a `*` pattern or a `{a,b}` group.
VARIABLE = re.compile(r"\b(?:GATEWAY|SANDBOX)_[A-Z0-9_]*[A-Z0-9](?![A-Z0-9_*{])")

_md = MarkdownIt("commonmark")


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def walk(tokens: list[Token]) -> list[Token]:
    """Every token, the inline ones' children included."""
    out: list[Token] = []
    for token in tokens:
        out.append(token)
        if token.children:
            out.extend(walk(token.children))
    return out


def links(page: Path) -> list[str]:
    """The targets of `page`'s links and images, as written (decoded)."""
    found = []
    for token in walk(_md.parse(page.read_text(encoding="utf-8"))):
        if token.type == "link_open":
            found.append(str(token.attrGet("href") or ""))
        elif token.type == "image":
            found.append(str(token.attrGet("src") or ""))
    return [unquote(target) for target in found]


def slug(text: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces as hyphens."""
    kept = "".join(
        ch for ch in text.strip().lower() if ch in " -_" or unicodedata.category(ch)[0] in "LNM"
    )
    return kept.replace(" ", "-")


@cache
def anchors(page: Path) -> frozenset[str]:
    """The ids of `page`'s headings (a repeated heading gets `-1`, `-2`…)."""
    tokens = _md.parse(page.read_text(encoding="utf-8"))
    seen: dict[str, int] = {}
    ids = set()
    for opening, inline in itertools.pairwise(tokens):
        if opening.type != "heading_open":
            continue
        text = "".join(
            child.content
            for child in inline.children or []
            if child.type in ("text", "code_inline")
        )
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        ids.add(base if count == 0 else f"{base}-{count}")
    return frozenset(ids)


@cache
def git_ignored(path: Path) -> bool:
    """Whether git ignores `path` (False outside a git checkout, or without git)."""
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        return False
    done = subprocess.run(  # noqa: S603 - git, with a path of this repository
        [git, "-C", str(ROOT), "check-ignore", "-q", "--", rel(path)], check=False
    )
    return done.returncode == 0


def problem(page: Path, target: str) -> str | None:
    """Why `target`, a link of `page`, does not resolve inside the repository; None if it does."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None  # a public site (https:, mailto:): fine
    path_part, anchor = parts.path, parts.fragment
    if not path_part:
        file = page
    elif path_part.startswith("/"):
        file = ROOT / path_part.lstrip("/")  # GitHub reads these from the repository's root
    else:
        file = page.parent / path_part
    file = file.resolve()
    if not file.is_relative_to(ROOT):
        return "points outside the repository"
    if not file.exists():
        return "names no file"
    if git_ignored(file):
        return "names a file git ignores (a clone does not have it)"
    if anchor and file.suffix == ".md" and anchor not in anchors(file):
        return f"has no heading #{anchor} in {rel(file)}"
    return None


def test_the_readme_reads_in_five_minutes() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < README_MAX_LINES, f"README.md has {len(lines)} lines"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    broken = [
        f"{target}: {why}" for target in links(page) if (why := problem(page, target)) is not None
    ]
    assert broken == [], f"{rel(page)}: " + "; ".join(broken)


def test_the_pages_checked_are_the_ones_the_readme_promises() -> None:
    names = {rel(page) for page in PAGES}
    assert {"README.md", "bench/README.md", "docs/configuration.md", "docs/operations.md"} <= names


def test_the_link_checker_refuses_what_a_clone_does_not_have(tmp_path: Path) -> None:
    """Each kind of broken link is caught, and the good kinds pass (the checker, attacked)."""
    page = ROOT / "docs" / "operations.md"
    assert problem(page, "../../shared/design/DOMAIN.md") == "points outside the repository"
    assert problem(page, "missing.md") == "names no file"
    assert problem(page, "deploy.md#no-such-heading") is not None
    assert problem(page, "deploy.md#postgresql") is None
    assert problem(page, "../deploy/kannel/kannel.conf") is None
    assert problem(page, "#capacity-plan") is None
    assert problem(page, "https://www.kannel.org/") is None
    if (ROOT / ".git").exists() and shutil.which("git"):
        ignored = ROOT / "bench" / "results" / "latest.json"
        assert git_ignored(ignored)
        if ignored.exists():
            assert problem(page, "../bench/results/latest.json") is not None
    sample = tmp_path / "sample.md"
    sample.write_text(
        "A [link](a.md), ![an image](b.png), a [reference][r], `[code](c.md)`, and\n"
        "```\n[fenced](d.md)\n```\n\n[r]: e.md#part\n",
        encoding="utf-8",
    )
    assert links(sample) == ["a.md", "b.png", "e.md#part"]


def test_headings_get_githubs_ids(tmp_path: Path) -> None:
    sample = tmp_path / "sample.md"
    sample.write_text(
        "# Demo accounts (sandbox)\n## Operators' routes: admin, metrics\n"
        "## The simulator (`python -m gateway simulate`)\n## Notes\n## Notes\n",
        encoding="utf-8",
    )
    assert anchors(sample) == {
        "demo-accounts-sandbox",
        "operators-routes-admin-metrics",
        "the-simulator-python--m-gateway-simulate",
        "notes",
        "notes-1",
    }


def settings_variables() -> set[str]:
    return {f"GATEWAY_{name.upper()}" for name in Settings.model_fields} | {
        f"SANDBOX_{name.upper()}" for name in SandboxSettings.model_fields
    }


def test_configuration_names_every_setting() -> None:
    named = set(VARIABLE.findall((ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")))
    missing = sorted(settings_variables() - named)
    assert missing == [], f"docs/configuration.md does not name {missing}"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_no_page_names_a_setting_that_does_not_exist(page: Path) -> None:
    unknown = sorted(set(VARIABLE.findall(page.read_text(encoding="utf-8"))) - settings_variables())
    assert unknown == [], f"{rel(page)} names {unknown}, which no setting reads"

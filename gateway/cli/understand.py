"""`python -m gateway unmatched` and `python -m gateway understand`: what parents wrote that
nothing understood, and what the vocabularies make of a message or a labelled corpus.

```sh
python -m gateway unmatched --since 7d          # the kept messages, oldest first
python -m gateway unmatched --since 30d --top   # the same, grouped, most frequent first
python -m gateway understand "les notes svp"    # -> marks (fr)
python -m gateway understand --corpus tests/fixtures/intents/corpus.tsv
```

A corpus is a tab-separated file: `lang`, `expected` (a request, `ambiguous` for two requests
in one message, `none` for nothing to do), the message, and an optional source; `#` starts a
comment line.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gateway.cli.settings import load_settings
from gateway.dialogs.intents import understand
from gateway.dialogs.scope import out_of_scope
from gateway.dialogs.vocabulary import Command

AMBIGUOUS = "ambiguous"
NONE = "none"
ELSEWHERE = "elsewhere"  # a question the gateway does not serve: no data answer (scope.py)
LABELS = frozenset({*(c.value for c in Command), AMBIGUOUS, NONE, ELSEWHERE})
# A wrong answer of this kind shows one thing for the other: the worst a parent can get.
SWAPS = frozenset({("absences", "marks"), ("marks", "absences")})


@dataclass(frozen=True, slots=True)
class Case:
    lang: str
    expected: str
    text: str
    source: str = ""


@dataclass(slots=True)
class Score:
    """Outcomes of one language's cases: right, asked back or not understood, wrong."""

    total: int = 0
    right: int = 0
    wrong: int = 0
    swaps: int = 0  # absences for marks or the reverse

    @property
    def share(self) -> float:
        return self.right / self.total if self.total else 0.0


def got(text: str) -> str:
    """What the gateway does with `text` as a first message: a request, ambiguous or none."""
    if out_of_scope(text) is not None:
        return ELSEWHERE
    reading = understand(text)
    if reading.choices:
        return AMBIGUOUS
    return reading.command.value if reading.command is not None else NONE


def load_corpus(path: Path) -> list[Case]:
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3 or cols[1] not in LABELS:
            raise ValueError(f"{path}:{number}: expected lang, label, message[, source]")
        cases.append(Case(cols[0], cols[1], cols[2], cols[3] if len(cols) > 3 else ""))
    return cases


def score(cases: Iterable[Case]) -> tuple[dict[str, Score], list[tuple[Case, str]]]:
    """Per-language scores, and the cases not answered right with what they got."""
    scores: dict[str, Score] = defaultdict(Score)
    misses = []
    for case in cases:
        outcome = got(case.text)
        s = scores[case.lang]
        s.total += 1
        if outcome == case.expected:
            s.right += 1
            continue
        misses.append((case, outcome))
        if outcome not in (NONE, AMBIGUOUS, ELSEWHERE):  # an answer, not the one asked for
            s.wrong += 1
            s.swaps += (case.expected, outcome) in SWAPS
    return dict(scores), misses


def understand_command(args: argparse.Namespace) -> int:
    if args.corpus:
        for path in args.corpus:
            scores, misses = score(load_corpus(Path(path)))
            print(f"{path}")  # noqa: T201
            print(f"  {'lang':<8} {'cases':>5} {'right':>6} {'share':>7} {'wrong':>5}")  # noqa: T201
            for lang, s in sorted(scores.items()):
                print(  # noqa: T201
                    f"  {lang:<8} {s.total:>5} {s.right:>6} {s.share:>7.1%} {s.wrong:>5}"
                )
            for case, outcome in misses:
                print(f"  miss [{case.lang}] {case.text!r}: {case.expected} -> {outcome}")  # noqa: T201
        return 0
    for text in args.text:
        reading = understand(text)
        choices = ", ".join(c.value for c in reading.choices)
        what = f"ask: {choices}" if choices else got(text)
        scope = out_of_scope(text)
        why = f": {scope.why()} (the menu and the hotline, logged as unmatched)" if scope else ""
        print(f"{text!r} -> {what} ({reading.lang or '?'}){why}")  # noqa: T201
    return 0


def unmatched_command(args: argparse.Namespace) -> int:
    import anyio

    from gateway.state.connections import open_redis
    from gateway.state.unmatched import UnmatchedLog
    from gateway.unmatched import parse_duration

    try:
        seconds = parse_duration(args.since)
    except ValueError as exc:
        print(f"massar-gateway: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    settings = load_settings()  # a bad variable is one line on stderr, not a traceback
    if settings.redis_url is None:
        print(  # noqa: T201
            "massar-gateway: GATEWAY_REDIS_URL is unset; the gateway's in-process stand-in "
            "keeps its list to itself. Set it to the Redis the gateway uses.",
            file=sys.stderr,
        )
        return 1

    async def read() -> list[str]:
        redis, _ = open_redis(settings.redis_url, timeout_s=settings.redis_timeout_s)
        try:
            entries = await UnmatchedLog(redis, retention_s=0).since(seconds)
        finally:
            await redis.aclose()
        if args.top:
            counts = Counter((e.lang, e.text) for e in entries)
            return [f"{n:>5}  {lang:<2}  {text}" for (lang, text), n in counts.most_common()]
        return [
            f"{e.at:%Y-%m-%d %H:%M}  {e.channel:<5} {e.lang:<2}  {e.state:<10} {e.text}"
            for e in entries
        ]

    lines = anyio.run(read)
    for line in lines[-args.limit :] if args.limit else lines:
        print(line)  # noqa: T201
    if not lines:
        print(f"no unmatched message in the last {args.since}", file=sys.stderr)  # noqa: T201
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `unmatched` and `understand` to the CLI's subcommands."""
    p_un = sub.add_parser("unmatched", help="messages nobody understood (masked), to learn from")
    p_un.add_argument("--since", default="7d", help="how far back: 30m, 12h, 7d, 2w (default 7d)")
    p_un.add_argument("--top", action="store_true", help="group identical messages, most first")
    p_un.add_argument("--limit", type=int, default=0, help="only the last N lines")
    p_un.set_defaults(func=unmatched_command)

    p_und = sub.add_parser("understand", help="what the vocabularies make of a message")
    p_und.add_argument("text", nargs="*", help="messages as parents would type them")
    p_und.add_argument("--corpus", nargs="+", help="labelled corpus files: scores per language")
    p_und.set_defaults(func=understand_command)

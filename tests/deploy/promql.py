"""Enough of PromQL to check the deploy kit's expressions against what the gateway exports:
the metric names an expression reads, the labels each selector matches on, and the labels it
groups by. Not a parser: `promtool` checks the syntax; this finds the names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from gateway.resilience.metrics import Metrics

KEYWORDS = frozenset(
    {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless"}
    | {"bool", "offset", "inf", "nan"}
)
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^}]*)\}")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
# Labels Prometheus itself adds to every scraped series.
TARGET_LABELS = frozenset({"job", "instance"})


@dataclass(frozen=True)
class Reads:
    metrics: frozenset[str]
    matched: frozenset[tuple[str, str]]  # (metric, label) pairs of the selectors
    grouped: frozenset[str]  # labels of by (…), without (…), on (…)…


def reads(expr: str) -> Reads:
    text = _RANGE.sub("", _STRING.sub('""', expr))
    matched = {
        (name, label.strip())
        for name, body in _SELECTOR.findall(text)
        for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", body)
        if name
    }
    grouped = {
        label.strip() for _, labels in _GROUPING.findall(text) for label in labels.split(",")
    }
    text = _SELECTOR.sub(lambda m: m[1] or "", _GROUPING.sub(" ", text))
    metrics = {
        m.group()
        for m in _NAME.finditer(text)
        if m.group() not in KEYWORDS and not text[m.end() :].lstrip().startswith("(")
    }
    return Reads(frozenset(metrics), frozenset(matched), frozenset(grouped - {""}))


def exported() -> dict[str, frozenset[str]]:
    """Every sample name the gateway's registry exports, with its labels: each collector of
    `Metrics` given one child (a labelled metric shows no sample before its first use)."""
    metrics = Metrics()
    for collector in vars(metrics).values():
        names = getattr(collector, "_labelnames", None)  # prometheus_client's collectors
        if names:
            collector.labels(**dict.fromkeys(names, "x"))
    found: dict[str, frozenset[str]] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            found[sample.name] = frozenset(sample.labels)
    return found

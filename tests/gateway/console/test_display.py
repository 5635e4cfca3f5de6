"""Every console page, in Arabic and in French, shows no raw value (issue 22): statuses,
kinds, channels, breaker states and audit actions through the catalogs, numbers and times
through babel, and numbers isolated left to right inside right-to-left pages.

`PAGES` lists the pages this test renders: every page of the console (the lookup page after
the check of Naima's child, so that its absences, marks and messages tables have rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from jinja2 import Environment

from gateway.console import web
from gateway.console.display import FILTERS
from gateway.deps import runtime_of
from tests.gateway.conftest import SmsPhone
from tests.gateway.console.conftest import (
    PASSWORDS,
    add_operators,
    another,
    csrf_of,
    sign_in,
)

TEMPLATES = Path(web.__file__).parent / "templates"
# Templates that are no page of their own: the frame, the printed leaflet, a one-line notice.
NOT_PAGES = {"base", "leaflet", "message"}
PAGES = [
    "signin",
    "totp",
    "dashboard",
    "audit",
    "helpdesk",
    "helpdesk_item",
    "simulator",
    "lookup",
    "operators",
]

RAW_WORDS = re.compile(
    r"\b(unjustified|justified|rejected|late|closed|half_open|open|sms|ussd|whatsapp|telegram"
    r"|voice|clear_lockout|revoke_binding|opt_out|opt_in|resend_alert|helpdesk_take"
    r"|helpdesk_answer|lookup|signin|signout|interactive|followup|bulk|delayed)\b"
)
RAW_FORMS = [
    re.compile(r"\b\d+\.\d+ ?(h|s|ms)\b"),  # "3.0 h": a float, not a number as people write it
    re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),  # an ISO date
    re.compile(r"\b\d{1,2}\.\d{2}\b"),  # "16.44": a time with a dot
    re.compile(r"DD/MM/YYYY"),
]
NAIMA = "+212600000002"
ADAM = {"code": "Z990000003", "birth_date": "14032012"}  # Naima's child (sandbox/demo.py)


class Text(HTMLParser):
    """The text a reader sees (not attributes, not the simulator's JSON and log panes), and
    the text of table cells and figures with no left-to-right ancestor."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.rtl_numbers: list[str] = []
        self.stack: list[tuple[str, bool, bool]] = []  # tag, ltr, hidden

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"input", "br", "meta", "link", "img"}:
            return
        values = dict(attrs)
        parent_ltr = self.stack[-1][1] if self.stack else False
        parent_hidden = self.stack[-1][2] if self.stack else False
        # dir="auto" isolates a parent's own words (a helpdesk message) as typed
        ltr = values.get("dir") in ("ltr", "auto") or tag == "svg" or parent_ltr
        hidden = (
            parent_hidden
            or tag in {"style", "script", "title"}
            or (tag == "pre" and values.get("class") in {"json", "logs"})
        )
        self.stack.append((tag, ltr, hidden))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1][2]:
            return
        self.seen.append(data)
        tags = [t for t, _, _ in self.stack]
        in_figure = {"td", "strong"} & set(tags) and "div" not in tags[-2:]
        if in_figure and re.search(r"\d", data) and not (self.stack and self.stack[-1][1]):
            self.rtl_numbers.append(data.strip())


def problems(html: str, lang: str) -> list[str]:
    parser = Text()
    parser.feed(html)
    text = " ".join(parser.seen)
    found = [m.group(0) for m in RAW_WORDS.finditer(text)]
    found += [m.group(0) for form in RAW_FORMS for m in form.finditer(text)]
    if lang == "ar":
        found += [f"not isolated left to right: {n!r}" for n in parser.rtl_numbers]
    return found


def test_every_page_is_rendered_here_or_listed_as_to_do() -> None:
    pages = {p.stem for p in TEMPLATES.glob("*.html")} - NOT_PAGES
    assert pages == set(PAGES)


@pytest.fixture
def pages(make_gateway: Callable[..., TestClient]) -> Callable[[str, str], str]:
    """Each page as a signed-in supervisor sees it, with something in every table."""
    # The test's own operators, not the demo's (made when a development gateway starts).
    client = make_gateway(env="development", console_demo_operators=False)
    add_operators(client)
    word = "zqdisplay"
    SmsPhone(client, NAIMA).send(f"{word} voudrais parler")  # queued for a person
    SmsPhone(client, NAIMA).send("ABS")  # turns, so the dashboard draws bars
    assert sign_in(client, "samir").status_code == 303
    queue = runtime_of(client.app).helpdesk
    items = client.portal.call(queue.open_items)  # type: ignore[union-attr]
    item = next(i for i in items if any(word in m["text"] for m in i.messages))
    client.post(
        "/console/actions/opt-out",
        data={"csrf": web_csrf(client), "phone": NAIMA, "reason": "asked by phone"},
    )
    urls = {
        "dashboard": "/console/dashboard",
        "audit": "/console/actions/audit",
        "helpdesk": "/console/helpdesk",
        "helpdesk_item": f"/console/helpdesk/{item.id}",
        "simulator": "/console/simulator?channel=sms&phone=%2B212600000002",
        "operators": "/console/operators",
    }

    def get(name: str, lang: str) -> str:
        if name == "signin":
            fresh = TestClient(client.app, base_url=str(client.base_url))
            response = fresh.get(f"/console/signin?lang={lang}")
        elif name == "totp":  # the password taken, the second factor asked
            fresh = another(client)
            form = fresh.get(f"/console/signin?lang={lang}")
            data = {"csrf": csrf_of(form.text), "name": "samir", "password": PASSWORDS["samir"]}
            fresh.post("/console/signin", data=data, follow_redirects=False)
            response = fresh.get(f"/console/signin/totp?lang={lang}")
        elif name == "lookup":  # a POST: the number never in a URL; Adam checked, so shown
            data = {"csrf": web_csrf(client), "phone": NAIMA, "reason": "display test", **ADAM}
            response = client.post(f"/console/lookup/verify?lang={lang}", data=data)
            assert 'id="absences"' in response.text or 'id="grades"' in response.text
        else:
            url = urls[name]
            response = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
        assert response.status_code == 200, (name, response.status_code)
        return response.text

    return get


def web_csrf(client: TestClient) -> str:
    return csrf_of(client.get("/console/helpdesk").text)


@pytest.mark.parametrize("lang", ["ar", "fr"])
@pytest.mark.parametrize("name", PAGES)
def test_no_page_shows_a_raw_value(pages: Callable[[str, str], str], name: str, lang: str) -> None:
    html = pages(name, lang)
    assert problems(html, lang) == [], name


@pytest.mark.parametrize(
    ("source", "lang", "shown"),
    [
        ('{{ "unjustified" | status_label }}', "fr", "non justifiée"),
        ('{{ "rejected" | status_label }}', "ar", "رُفض العذر"),
        ('{{ "late" | kind_label }}', "fr", "retard"),
        ('{{ "sms" | channel_label }}', "ar", "الرسائل القصيرة"),
        ('{{ "closed" | breaker_label }}', "fr", "fermé (Massar répond)"),
        ("{{ 3.0 | hours }}", "fr", '<bdi dir="ltr">3</bdi> h'),
        ("{{ 3.5 | hours }}", "ar", '<bdi dir="ltr">3,5</bdi> س'),
        ("{{ at | when }}", "fr", '<bdi dir="ltr">07/12/2026 17:44</bdi>'),
        ("{{ 0.01234 | ms }}", "fr", '<bdi dir="ltr">12</bdi> ms'),
    ],
)
def test_filters(source: str, lang: str, shown: str) -> None:
    env = Environment(autoescape=True)
    env.filters.update(FILTERS)
    at = datetime(2026, 12, 7, 16, 44, tzinfo=UTC)  # 17:44 in Casablanca (UTC+1)
    assert env.from_string(source).render(lang=lang, at=at) == shown

"""An operator's xHTML USSD API (#303#-style, `GET /channels/ussd/orange`): the third USSD
provider, one module on the shared core. The operator's back-end is played by a small
browser that follows the links and submits the forms of the pages the gateway answers.
Rows of `tests/fixtures/orange_ussd/requests.json` (written by hand, see its README).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.channels.ussd import orange
from gateway.dialogs import texts
from tests.gateway.channels.conftest import FIXTURES, total
from tests.gateway.channels.test_at_ussd import say

TOKEN = "test-ussd-orange-token"
NS = "{http://www.w3.org/1999/xhtml}"
Calls = Callable[[], dict[str, dict[str, int]]]
ROWS: list[dict[str, Any]] = json.loads(
    (FIXTURES / "orange_ussd" / "requests.json").read_text(encoding="utf-8")
)


@dataclass(frozen=True)
class Page:
    text: str
    links: dict[str, str]  # accesskey -> href
    form: dict[str, str] | None  # hidden fields, when the page takes typed input
    raw: bytes

    @classmethod
    def of(cls, response: httpx.Response) -> Page:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == orange.XHTML
        html = ET.fromstring(response.content)  # noqa: S314 - our own page, in the test
        body = html.find(f"{NS}body")
        assert body is not None
        paragraph = body.find(f"{NS}p")
        assert paragraph is not None
        text = "\n".join(t for t in paragraph.itertext())
        links = {a.get("accesskey", ""): a.get("href", "") for a in body.iter(f"{NS}a")}
        form = body.find(f"{NS}form")
        hidden = None
        if form is not None:
            inputs = form.iter(f"{NS}input")
            hidden = {i.get("name", ""): i.get("value", "") for i in inputs if i.get("value")}
        return cls(text, links, hidden, response.content)

    @property
    def end(self) -> bool:
        return not self.links and self.form is None


@dataclass
class Browser:
    """The operator's back-end, fetching pages on behalf of one phone."""

    client: TestClient
    phone: str
    pages: list[Page] = field(default_factory=list)

    def get(self, params: dict[str, str]) -> Page:
        response = self.client.get(orange.ROUTE, params=params, headers={"X-MSISDN": self.phone})
        self.pages.append(Page.of(response))
        return self.pages[-1]

    def dial(self) -> Page:
        return self.get({"token": TOKEN})

    def follow(self, key: str) -> Page:
        href = self.pages[-1].links[key]
        return self.get(dict(parse_qsl(urlsplit(href).query)))

    def type(self, text: str) -> Page:
        form = self.pages[-1].form
        assert form is not None
        return self.get({**form, "in": text})


@pytest.fixture
def orange_gateway(make_gateway: Callable[..., TestClient]) -> TestClient:
    # The budget at its ceiling: a loaded test machine must not turn a page into "busy".
    return make_gateway(ussd_orange_token=TOKEN, ussd_budget_s=10.0)


def test_a_parent_follows_links_and_fills_forms_to_the_absences(
    orange_gateway: TestClient,
) -> None:
    browser = Browser(orange_gateway, "+212700000001")  # Rachid, French
    menu = browser.dial()
    assert menu.text == "Services Massar :"
    assert list(menu.links) == ["1", "2", "3", "4", "5", "6"]  # 6: the alerts menu
    ask_code = browser.follow("1")
    assert ask_code.text == say("fr", texts.ASK_CODE)
    assert ask_code.form is not None
    assert browser.type("Z990000001").text == say("fr", texts.ASK_CHILD_DOB)
    absences = browser.type("14092018")
    assert absences.text.startswith("Youssef : 2 absences")
    assert absences.end  # nothing to follow: the last page


def test_an_arabic_parent_gets_arabic_pages(orange_gateway: TestClient) -> None:
    browser = Browser(orange_gateway, "+212600000001")
    assert browser.dial().text == say("ar", texts.MAIN_TITLE)
    assert browser.follow("1").text == say("ar", texts.ASK_CODE)


def test_a_link_fetched_twice_gets_the_same_page_and_no_backend_call(
    orange_gateway: TestClient, backend_calls: Calls
) -> None:
    browser = Browser(orange_gateway, "+212700000001")
    browser.dial()
    first = browser.follow("1")
    calls = backend_calls()
    browser.pages.pop()
    again = browser.follow("1")
    assert again.raw == first.raw
    assert backend_calls() == calls


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row["label"])
def test_each_request_of_the_table_gets_its_answer(
    orange_gateway: TestClient, backend_calls: Calls, row: dict[str, Any]
) -> None:
    params = {k: TOKEN if v == "TOKEN" else v for k, v in row["query"].items()}
    response = orange_gateway.get(orange.ROUTE, params=params, headers=row["headers"])
    assert response.status_code == row["status"]
    if row["kind"] == "refused":
        assert response.headers["content-type"].startswith("text/plain")
        assert total(backend_calls()) == 0
        return
    page = Page.of(response)
    assert page.end is (row["kind"] == "end")
    assert page.form is not None
    assert len(page.form["sid"]) == 32


def test_without_a_token_configured_every_call_is_refused(
    make_gateway: Callable[..., TestClient],
) -> None:
    client = make_gateway()  # GATEWAY_USSD_ORANGE_TOKEN unset
    response = client.get(orange.ROUTE, params={"token": ""}, headers={"X-MSISDN": "+212700000001"})
    assert response.status_code == 403

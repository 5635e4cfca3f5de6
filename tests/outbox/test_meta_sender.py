"""The Meta sender against a MockTransport: what each number of options becomes (buttons,
a list, numbered text), the Graph API call, and how its refusals are classified."""

from __future__ import annotations

import json

import httpx
import pytest

from gateway.outbox.model import SendError
from gateway.outbox.senders.meta import payload
from tests.outbox.chat_fakes import (
    WAMID,
    Recorder,
    chat_message,
    meta_sender,
    options,
)

pytestmark = pytest.mark.anyio


# --- Meta: what each number of options becomes ------------------------------------------------


def test_up_to_three_options_are_reply_buttons_cut_at_a_word() -> None:
    body = payload(chat_message(opts=options("Absences", "Pré-inscription de mon enfant", "Menu")))
    assert body["type"] == "interactive"
    inter = body["interactive"]
    assert inter["type"] == "button"
    titles = [b["reply"]["title"] for b in inter["action"]["buttons"]]
    assert titles == ["Absences", "Pré-inscription de..", "Menu"]
    assert all(len(t) <= 20 for t in titles)
    assert [b["reply"]["id"] for b in inter["action"]["buttons"]] == ["opt:1", "opt:2", "opt:3"]
    assert body["to"] == "212600000001"  # Meta's form: digits, no "+"


def test_four_to_ten_options_are_a_list_whose_cut_rows_keep_the_label_in_the_description() -> None:
    labels = ("Absences", "Notes", "Inscription", "Aide", "Youssef Benali El Idrissi (2AP)")
    body = payload(chat_message(text="Services Massar :", opts=options(*labels)))
    inter = body["interactive"]
    assert inter["type"] == "list"
    assert inter["action"]["button"] == "Options"  # the text is French: French catalog
    [section] = inter["action"]["sections"]
    rows = section["rows"]
    assert [r["id"] for r in rows] == [f"opt:{n}" for n in range(1, 6)]
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[4]["title"] == "Youssef Benali El.."
    assert rows[4]["description"] == labels[4]
    assert "description" not in rows[0]


def test_an_arabic_list_has_an_arabic_button() -> None:
    body = payload(chat_message(text="خدمات مسار:", opts=options("أ", "ب", "ج", "د")))
    assert body["interactive"]["action"]["button"] == "الخيارات"


def test_more_than_ten_options_are_numbered_text() -> None:
    labels = [f"Enfant {n}" for n in range(1, 12)]
    body = payload(chat_message(text="Quel enfant ?", opts=options(*labels)))
    assert body["type"] == "text"
    assert body["text"]["body"].splitlines()[0] == "Quel enfant ?"
    assert body["text"]["body"].splitlines()[-1] == "11. Enfant 11"


def test_a_plain_text_has_no_options_and_no_preview() -> None:
    assert payload(chat_message(text="Bonjour")) == {
        "messaging_product": "whatsapp",
        "to": "212600000001",
        "type": "text",
        "text": {"body": "Bonjour", "preview_url": False},
    }


async def test_meta_sender_posts_the_body_with_the_token_and_returns_the_wamid() -> None:
    ok = {
        "messaging_product": "whatsapp",
        "contacts": [{"input": "212600000001", "wa_id": "212600000001"}],
        "messages": [{"id": WAMID}],
    }
    recorder = Recorder(lambda request: httpx.Response(200, json=ok))
    sender, http = meta_sender(recorder)
    msg = chat_message(opts=options("Absences"))
    receipt = await sender.send(msg)
    await http.aclose()
    assert receipt.provider_id == WAMID[:64]
    [request] = recorder.requests
    assert str(request.url) == "http://graph.test/v21.0/106540352242922/messages"
    assert request.headers["authorization"] == "Bearer test-meta-token"
    assert json.loads(request.content) == payload(msg)


@pytest.mark.parametrize(
    ("status", "body", "headers", "code", "retryable", "wait"),
    [
        (
            400,
            {"error": {"code": 131047, "message": "Re-engagement message"}},
            {},
            "meta:131047",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": 131026, "message": "Message undeliverable"}},
            {},
            "meta:131026",
            False,
            None,
        ),
        (
            401,
            {"error": {"code": 190, "message": "Invalid OAuth access token"}},
            {},
            "meta:190",
            False,
            None,
        ),
        (
            400,
            {"error": {"code": 131056, "message": "Pair rate limit hit"}},
            {},
            "meta:131056",
            True,
            None,
        ),
        (
            429,
            {"error": {"code": 130429, "message": "Rate limit hit"}},
            {"Retry-After": "7"},
            "meta:130429",
            True,
            7.0,
        ),
        (503, {}, {}, "http:503", True, None),
        (500, "not json", {}, "http:500", True, None),
    ],
    ids=[
        "24h-window",
        "undeliverable",
        "token",
        "pair-rate",
        "throughput",
        "unavailable",
        "html-500",
    ],
)
async def test_meta_errors_are_classified(
    status: int,
    body: object,
    headers: dict[str, str],
    code: str,
    retryable: bool,
    wait: float | None,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if isinstance(body, str):
            return httpx.Response(status, text=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    sender, http = meta_sender(answer)
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message())
    await http.aclose()
    assert (raised.value.code, raised.value.retryable, raised.value.retry_after_s) == (
        code,
        retryable,
        wait,
    )


async def test_a_meta_answer_without_a_message_id_is_not_sent_again() -> None:
    sender, http = meta_sender(lambda request: httpx.Response(200, json={"messages": []}))
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message())
    await http.aclose()
    assert (raised.value.code, raised.value.retryable) == ("bad_response", False)


async def test_a_meta_connection_failure_is_retried() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sender, http = meta_sender(refuse)
    with pytest.raises(SendError) as raised:
        await sender.send(chat_message())
    await http.aclose()
    assert (raised.value.code, raised.value.retryable) == ("connect", True)

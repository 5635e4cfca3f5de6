"""The other disclosure paths of issue #21, each tried as the attack: the simulator on a real
family's phone, the open simulator in production, `/admin/messages` with a shared token, a
closed helpdesk item answered, a number the family asked to forget, a console reached from
an unlisted network, an answer about a child left untagged."""

from __future__ import annotations

import random
import secrets
import string
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pydantic
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.deps import runtime_of
from gateway.outbox.model import MessageKind
from gateway.settings import Settings
from gateway.state.schema import alert_preference, outbound_message, phone_binding, telegram_link
from gateway.state.telegram_links import TelegramLinks
from tests.databases import migrated
from tests.gateway.conftest import PUBLIC_URL, SmsPhone
from tests.gateway.console.conftest import (
    add_operators,
    another,
    csrf_of,
    lookup,
    said,
    sign_in,
)
from tests.gateway.console.test_lookup import record
from tests.gateway.test_settings import STRONG

KHADIJA = "+212600000001"
NAIMA = "+212600000002"
REAL = "+212661234567"  # a real family's phone, bound to a child
MONITOR = secrets.token_urlsafe(24)  # a client's own token for /admin/messages


def audit_rows(client: TestClient) -> list[Any]:
    log = runtime_of(client.app).console.audit
    return list(client.portal.call(log.recent, 500))  # type: ignore[union-attr]


def nonce() -> str:
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=10))


# --- the simulator ---------------------------------------------------------------------------


def test_the_simulator_refuses_a_real_bound_phone_and_audits_it(
    make_gateway: Callable[..., TestClient],
) -> None:
    client = make_gateway(env="development")
    state = runtime_of(client.app)
    client.portal.call(state.turns.dialog.bindings.bind, REAL, "stu_real", datetime.now(UTC))  # type: ignore[union-attr]
    page = client.get("/console/simulator", params={"channel": "sms", "phone": REAL, "lang": "fr"})
    assert page.status_code == 403
    refused = said(
        "The simulator only talks as the demo phones or the test numbers "
        "(GATEWAY_CONSOLE_SIMULATOR_PHONES): this number is refused."
    )
    assert refused in page.text
    assert 'id="session"' in page.text
    assert "&#34;state&#34;" not in page.text  # no session of that phone is shown
    demo = client.get("/console/simulator", params={"channel": "sms", "phone": NAIMA})
    form = {"csrf": csrf_of(demo.text), "channel": "sms", "phone": REAL, "text": "ABS"}
    sent = client.post("/console/simulator/send", data=form)
    assert sent.status_code == 403
    assert refused in sent.text
    rows = [r for r in audit_rows(client) if r.action == "simulator_refused"]
    assert len(rows) == 2
    assert rows[0].phone_masked == "+212*******67"
    assert REAL not in str(rows)
    records = client.portal.call(state.records.for_address, REAL)  # type: ignore[union-attr]
    assert records == []  # nothing was sent as that phone, nothing queued to it


def test_a_configured_test_range_is_allowed(make_gateway: Callable[..., TestClient]) -> None:
    client = make_gateway(env="development", console_simulator_phones="+2126999*,+212700000042")
    for phone in ("+212699900001", "+212700000042"):
        page = client.get("/console/simulator", params={"channel": "ussd", "phone": phone})
        assert page.status_code == 200, phone
    assert (
        client.get("/console/simulator", params={"channel": "ussd", "phone": "+212700000043"})
    ).status_code == 403


def test_production_refuses_to_start_with_the_open_simulator() -> None:
    with pytest.raises(pydantic.ValidationError, match="GATEWAY_CONSOLE_OPEN_SIMULATOR"):
        Settings(**{**STRONG, "console_open_simulator": True})  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError, match="GATEWAY_CONSOLE_DEMO_OPERATORS"):
        Settings(**{**STRONG, "console_demo_operators": True})  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError, match="share a token"):
        Settings(**{**STRONG, "admin_tokens": f"a:{'x' * 32},b:{'x' * 32}"})  # type: ignore[arg-type]


def test_production_start_with_the_open_simulator_fails_at_the_command_line(
    tmp_path: Path,
) -> None:
    env = {f"GATEWAY_{k.upper()}": str(v) for k, v in STRONG.items()}
    env.update(
        GATEWAY_CONSOLE_OPEN_SIMULATOR="true",
        GATEWAY_DATABASE_URL=f"sqlite:///{tmp_path}/gw.db",
        PATH="/usr/bin:/bin",
    )
    run = subprocess.run(
        [sys.executable, "-m", "gateway", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    assert "GATEWAY_CONSOLE_OPEN_SIMULATOR must be off in production" in run.stderr


@pytest.fixture
def production(tmp_path: Path, redis_url: str | None, sandbox_app: object) -> Iterator[TestClient]:
    """The gateway with production settings (real Redis), its backend the sandbox."""
    if redis_url is None:
        pytest.skip("production needs a real Redis (TEST_REDIS_URL)")
    settings = Settings(
        **{  # type: ignore[arg-type]
            **STRONG,
            "redis_url": redis_url,
            "database_url": f"sqlite:///{tmp_path}/gateway.db",
            "var_dir": tmp_path / "var",
            "identity_key": secrets.token_urlsafe(32),
            "admin_tokens": f"simulator:{secrets.token_urlsafe(24)},monitor:{MONITOR}",
            "admin_messages": True,
        }
    )
    app = create_app(
        migrated(settings),
        backend_transport=httpx.ASGITransport(app=sandbox_app),  # type: ignore[arg-type]
    )
    with TestClient(app, base_url="https://gateway.example.ma") as client:
        yield client


def test_production_has_no_simulator_and_strict_headers(production: TestClient) -> None:
    page = production.get("/console/simulator", params={"phone": KHADIJA})
    assert page.status_code == 404
    assert "Simulator" not in production.get("/console/signin").text
    hsts = production.get("/console/signin").headers["strict-transport-security"]
    assert hsts.startswith("max-age=")
    assert production.get("/healthz").headers["x-content-type-options"] == "nosniff"


# --- /admin/messages --------------------------------------------------------------------------


def test_admin_messages_names_each_client_and_audits_every_call(production: TestClient) -> None:
    state = runtime_of(production.app)
    shared = production.get(
        "/admin/messages",
        params={"to": KHADIJA},
        headers={"Authorization": f"Bearer {STRONG['admin_token']}"},
    )
    assert shared.status_code == 403  # production: no shared token, only named ones
    ok = production.get(
        "/admin/messages",
        params={"to": KHADIJA},
        headers={"Authorization": f"Bearer {MONITOR}"},
    )
    assert ok.status_code == 200
    assert ok.json() == {"items": []}
    assert ok.headers["cache-control"] == "no-store"
    rows = [r for r in audit_rows(production) if r.action == "admin_messages"]
    assert [(r.operator, r.phone_masked) for r in rows] == [("token:monitor", "+212*******01")]
    assert "no text" in (rows[0].detail or "")
    assert state.settings.admin_messages_texts is None  # texts: off in production


def test_admin_messages_is_off_in_production_unless_enabled(
    tmp_path: Path, redis_url: str | None, sandbox_app: object
) -> None:
    if redis_url is None:
        pytest.skip("production needs a real Redis (TEST_REDIS_URL)")
    settings = Settings(
        **{  # type: ignore[arg-type]
            **STRONG,
            "redis_url": redis_url,
            "database_url": f"sqlite:///{tmp_path}/gateway.db",
            "identity_key": secrets.token_urlsafe(32),
        }
    )
    app = create_app(
        migrated(settings),
        backend_transport=httpx.ASGITransport(app=sandbox_app),  # type: ignore[arg-type]
    )
    with TestClient(app, base_url="https://gateway.example.ma") as client:
        off = client.get(
            "/admin/messages",
            params={"to": KHADIJA},
            headers={"Authorization": f"Bearer {STRONG['admin_token']}"},
        )
        assert off.status_code == 404


def test_admin_messages_in_development_keeps_its_token_and_shape(
    make_gateway: Callable[..., TestClient],
) -> None:
    client = make_gateway(embedded_sender=True)
    SmsPhone(client, KHADIJA).send("STOP")  # Twilio's answer is TwiML: nothing recorded
    state = runtime_of(client.app)
    token = state.settings.admin_token.get_secret_value()
    listed = client.get(
        "/admin/messages", params={"to": KHADIJA}, headers={"Authorization": f"Bearer {token}"}
    )
    assert listed.status_code == 200
    assert set(listed.json()) == {"items"}
    assert client.get("/admin/messages", params={"to": KHADIJA}).status_code == 401
    rows = [r for r in audit_rows(client) if r.action == "admin_messages"]
    assert rows[0].operator == "token:admin"


# --- the helpdesk -----------------------------------------------------------------------------


def open_item(client: TestClient, phone: str, word: str) -> Any:
    queue = runtime_of(client.app).helpdesk
    items = client.portal.call(queue.open_items)  # type: ignore[union-attr]
    mine = [i for i in items if i.phone == phone and any(word in m["text"] for m in i.messages)]
    return mine[0] if mine else None


def test_the_helpdesk_queue_hides_a_childs_code_date_and_name_until_an_agent_takes_it(
    make_gateway: Callable[..., TestClient],
) -> None:
    """Parents write their child's code and birth date to a person: the queue every agent
    reads shows neither (nor a name); the agent who takes the item reads the whole message."""
    client = make_gateway()
    add_operators(client)
    word = nonce()
    sms = SmsPhone(client, NAIMA)
    sms.send("MENU")
    sms.send("6")  # talk to a person: the next message goes to the queue as typed
    sms.send(f"{word} mon fils Adam Z990000003 né le 14032012 est absent ?")
    item = open_item(client, NAIMA, word)
    assert item is not None
    secrets_typed = ("Z990000003", "14032012", "Adam")
    other = another(client)
    assert sign_in(other, "samir").status_code == 303  # a second operator, looking on
    assert sign_in(client, "amina").status_code == 303
    for page in (client.get("/console/helpdesk"), client.get(f"/console/helpdesk/{item.id}")):
        assert word in page.text  # the message is there, masked
        assert not any(s in page.text for s in secrets_typed), page.text
    csrf = csrf_of(client.get(f"/console/helpdesk/{item.id}").text)
    client.post(f"/console/helpdesk/{item.id}/take", data={"csrf": csrf})
    taken = client.get(f"/console/helpdesk/{item.id}").text
    assert all(s in taken for s in secrets_typed)  # the taker reads it whole
    onlooker = other.get(f"/console/helpdesk/{item.id}").text
    assert not any(s in onlooker for s in secrets_typed)


def test_a_closed_helpdesk_item_cannot_be_answered_and_keeps_no_number(
    make_gateway: Callable[..., TestClient],
) -> None:
    client = make_gateway(helpdesk_closed_keep_s=3600)
    add_operators(client)
    assert sign_in(client, "amina").status_code == 303
    word = nonce()
    SmsPhone(client, NAIMA).send(f"{word} {nonce()}")
    item = open_item(client, NAIMA, word)
    page = client.get(f"/console/helpdesk/{item.id}")
    csrf = csrf_of(page.text)
    first = client.post(
        f"/console/helpdesk/{item.id}/answer", data={"csrf": csrf, "text": "Envoyez ABS."}
    )
    assert first.status_code == 200
    again = client.post(
        f"/console/helpdesk/{item.id}/answer", data={"csrf": csrf, "text": "Second answer."}
    )
    assert again.status_code == 409
    assert said("This message is closed: it can no longer be answered.") in again.text
    take = client.post(f"/console/helpdesk/{item.id}/take", data={"csrf": csrf})
    assert take.status_code == 404
    queued = client.portal.call(runtime_of(client.app).outbox.backlog)  # type: ignore[union-attr]
    assert sum(queued.values()) == 1  # the first answer only
    queue = runtime_of(client.app).helpdesk
    closed = client.portal.call(queue.get, item.id)  # type: ignore[union-attr]
    assert closed.closed
    assert closed.phone == "+212*******02"
    assert closed.address == ""
    redis = runtime_of(client.app).redis
    ttl = client.portal.call(redis.ttl, f"mg:{{helpdesk}}:item:{item.id}")  # type: ignore[union-attr]
    assert 0 < ttl <= 3600  # its texts go with it after the configured time
    shown = client.get(f"/console/helpdesk/{item.id}").text
    assert 'id="answer"' not in shown
    assert client.get(f"/console/helpdesk/{item.id}/lookup").status_code == 404


def test_an_expired_item_is_closed_once_even_if_answered_at_the_same_time(
    make_gateway: Callable[..., TestClient],
) -> None:
    client = make_gateway()
    word = nonce()
    SmsPhone(client, NAIMA).send(f"{word} {nonce()}")
    item = open_item(client, NAIMA, word)
    queue = runtime_of(client.app).helpdesk
    client.portal.call(queue.expire, time.time() + queue.expiry_s + 1)  # type: ignore[union-attr]
    answered = client.portal.call(queue.answer, item, "amina", "late answer")  # type: ignore[union-attr]
    assert answered is False


# --- forget this number -----------------------------------------------------------------------


def test_forget_this_number_clears_everything_listed(
    make_gateway: Callable[..., TestClient],
) -> None:
    client = make_gateway(embedded_sender=True)
    add_operators(client)
    state = runtime_of(client.app)
    sms = SmsPhone(client, KHADIJA)
    sms.send("Z990000001 14092018")  # a binding and an SMS conversation
    sms.send("STOP")  # an alert preference
    word = nonce()
    sms.send(f"{word} {nonce()}")  # a helpdesk item
    chat = "telegram:987654321"
    client.portal.call(state.preferences.set_channel, KHADIJA, "telegram", chat)  # type: ignore[union-attr]
    links = TelegramLinks(
        state.db, key_secret=state.settings.identity_key.get_secret_value().encode()
    )
    client.portal.call(links.link, 987654321, KHADIJA, datetime.now(UTC))  # type: ignore[union-attr]
    record(client, "Youssef: 2 h absent", "stu_x", MessageKind.ALERT)
    assert open_item(client, KHADIJA, word) is not None
    assert sign_in(client, "samir").status_code == 303
    agent_view = lookup(client, KHADIJA)
    done = client.post(
        "/console/actions/forget",
        data={
            "csrf": csrf_of(agent_view.text),
            "phone": KHADIJA,
            "reason": "the mother asked to be forgotten",
            "confirm": "1",
        },
    )
    assert done.status_code == 200, done.text
    with state.db.connect() as conn:
        assert conn.execute(sa.select(phone_binding)).all() == []
        assert conn.execute(sa.select(alert_preference)).all() == []
        assert conn.execute(sa.select(telegram_link)).all() == []
        texts = conn.execute(sa.select(outbound_message.c.text, outbound_message.c.options))
        assert all(row.text is None and row.options is None for row in texts)
    assert open_item(client, KHADIJA, word) is None
    by_phone = client.portal.call(  # type: ignore[union-attr]
        lambda: state.redis.keys(f"mg:{state.sessions.keys.user_tag(KHADIJA)}:*")
    )
    assert by_phone == []  # conversations, remembered answers, rate limit
    assert client.portal.call(links.phone, 987654321) is None  # type: ignore[union-attr]
    entry = next(r for r in audit_rows(client) if r.action == "forget_number")
    assert entry.operator == "samir"
    assert entry.reason == "the mother asked to be forgotten"
    assert entry.phone_masked == "+212*******01"
    unconfirmed = client.post(
        "/console/actions/forget",
        data={"csrf": csrf_of(agent_view.text), "phone": KHADIJA, "reason": "no box ticked"},
    )
    assert unconfirmed.status_code == 400


# --- the console's networks -------------------------------------------------------------------


def test_the_console_answers_only_its_networks(make_gateway: Callable[..., TestClient]) -> None:
    client = make_gateway(console_networks="10.20.0.0/16")
    outside = client.get("/console/signin")
    assert outside.status_code == 403
    assert client.get("/healthz").status_code == 200  # the rest of the gateway answers
    inside = TestClient(client.app, base_url=PUBLIC_URL, client=("10.20.3.4", 1000))
    inside.portal = client.portal
    assert inside.get("/console/signin").status_code == 200


# --- answers about a child are tagged --------------------------------------------------------


def test_a_chat_answer_about_a_child_is_tagged_with_that_child(
    make_gateway: Callable[..., TestClient],
) -> None:
    from tests.gateway.chat.handsets import TELEGRAM_SECRET, ChatGateway, TelegramHandset

    client = make_gateway(telegram_webhook_secret=TELEGRAM_SECRET, embedded_sender=False)
    desk = ChatGateway(client)
    phone = TelegramHandset(desk, KHADIJA)
    menu = phone.share_contact()
    asked = phone.tap(menu, "abs")
    phone.type("Z990000001")
    answer = phone.type("14092018")
    assert "Youssef" in answer.text or "يوسف" in answer.text
    queued = [m for m in desk.queued(phone.address) if m.text == answer.text]
    assert queued
    assert queued[0].student is not None
    assert asked.text  # the prompts before: about no child yet
    prompts = [m for m in desk.queued(phone.address) if m.text == asked.text]
    assert prompts[0].student is None


# --- retention (DOMAIN.md §6) ----------------------------------------------------------------


def test_delivery_records_go_after_90_days_and_audit_lines_after_12_months(
    make_gateway: Callable[..., TestClient],
) -> None:
    from datetime import timedelta

    from gateway.state.console.audit import AuditLog
    from gateway.state.schema import console_audit

    client = make_gateway()
    state = runtime_of(client.app)
    record(client, "an old absence", "stu_x", MessageKind.ALERT)
    later = datetime.now(UTC) + timedelta(days=91)
    client.portal.call(state.records.purge_bodies, later)  # type: ignore[union-attr]
    assert client.portal.call(state.records.for_address, KHADIJA) == []  # type: ignore[union-attr]
    with state.db.begin() as conn:
        conn.execute(
            sa.insert(console_audit).values(
                at=datetime.now(UTC) - timedelta(days=366), operator="old", action="lookup"
            )
        )
    log = AuditLog(state.db)
    client.portal.call(log.write, "samir", "lookup")  # type: ignore[union-attr]
    operators = [e.operator for e in client.portal.call(log.recent, 10)]  # type: ignore[union-attr]
    assert operators == ["samir"]

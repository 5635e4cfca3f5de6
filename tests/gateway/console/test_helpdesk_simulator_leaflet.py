"""The helpdesk queue, the web simulator, the leaflet and `operators add`."""

from __future__ import annotations

import io
import random
import string
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pypdf
import pytest
from fastapi.testclient import TestClient

from gateway.deps import runtime_of
from tests.gateway.conftest import SmsPhone
from tests.gateway.console.conftest import add_operators, csrf_of, said, sign_in

NAIMA = "+212600000002"


def nonce() -> str:
    return "zq" + "".join(random.choices(string.ascii_lowercase, k=10))


def queued_item(client: TestClient, phone: str, word: str) -> object:
    """The open item of `phone` holding `word` (other tests' items share the Redis queue)."""
    queue = runtime_of(client.app).helpdesk
    items = client.portal.call(queue.open_items)  # type: ignore[union-attr]
    mine = [i for i in items if i.phone == phone and any(word in m["text"] for m in i.messages)]
    return mine[0] if mine else None


@pytest.fixture
def sending(make_gateway: Callable[..., TestClient]) -> TestClient:
    """A signed-in agent on a gateway whose own worker sends the outbox (to the sink)."""
    client = make_gateway(embedded_sender=True)
    add_operators(client)
    sign_in(client, "amina")
    return client


def test_an_unclear_sms_is_queued_and_answered_through_the_outbox(sending: TestClient) -> None:
    agent = sending
    word = nonce()
    SmsPhone(agent, NAIMA).send(f"{word} {nonce()}")
    item = queued_item(agent, NAIMA, word)
    assert item is not None
    queue_page = agent.get("/console/helpdesk").text
    assert word in queue_page
    assert "+212*******02" in queue_page
    page = agent.get(f"/console/helpdesk/{item.id}")  # type: ignore[attr-defined]
    assert word in page.text
    assert f'href="/console/helpdesk/{item.id}/lookup"' in page.text  # type: ignore[attr-defined]
    assert "600000002" not in page.text  # never the number in a link
    opened = agent.get(f"/console/helpdesk/{item.id}/lookup")  # type: ignore[attr-defined]
    assert "+212*******02" in opened.text
    agent.post(f"/console/helpdesk/{item.id}/take", data={"csrf": csrf_of(page.text)})  # type: ignore[attr-defined]
    assert said("Taken by %(name)s", name="amina") in agent.get(f"/console/helpdesk/{item.id}").text  # type: ignore[attr-defined]
    answered = agent.post(
        f"/console/helpdesk/{item.id}/answer",  # type: ignore[attr-defined]
        data={"csrf": csrf_of(page.text), "text": "Bonjour, envoyez ABS pour les absences."},
    )
    assert answered.status_code == 200
    assert queued_item(agent, NAIMA, word) is None
    records = runtime_of(agent.app).records
    for _ in range(100):  # the in-process sender worker sends it to the sink
        sent = agent.portal.call(records.for_address, NAIMA)  # type: ignore[union-attr]
        if any(m["text"] == "Bonjour, envoyez ABS pour les absences." for m in sent):
            break
        time.sleep(0.05)
    assert any(
        m["text"] == "Bonjour, envoyez ABS pour les absences." and m["channel"] == "sms"
        for m in sent
    )


def test_an_unanswered_item_expires_with_the_hotline_in_the_parents_language(
    sending: TestClient,
) -> None:
    agent = sending
    word = nonce()
    SmsPhone(agent, NAIMA).send(f"{word} {nonce()}")
    assert queued_item(agent, NAIMA, word) is not None
    queue = runtime_of(agent.app).helpdesk
    later = time.time() + queue.expiry_s + 1
    agent.portal.call(queue.expire, later)  # type: ignore[union-attr]
    assert queued_item(agent, NAIMA, word) is None
    records = runtime_of(agent.app).records
    for _ in range(100):
        sent = agent.portal.call(records.for_address, NAIMA)  # type: ignore[union-attr]
        if any("0800 00 11 22" in (m["text"] or "") for m in sent):
            break
        time.sleep(0.05)
    assert any("0800 00 11 22" in (m["text"] or "") and m["channel"] == "sms" for m in sent)


def test_a_command_does_not_reach_the_queue(agent: TestClient) -> None:
    SmsPhone(agent, NAIMA).send("ABS")
    assert queued_item(agent, NAIMA, "ABS") is None


def test_the_simulator_walks_ussd_to_the_absences_with_counts_and_logs(
    make_gateway: object,
) -> None:
    client = make_gateway(env="development", log_level="INFO")  # type: ignore[operator]
    page = client.get("/console/simulator?channel=ussd&phone=%2B212600000002&lang=fr")
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    form = {"csrf": csrf, "channel": "ussd", "phone": "+212600000002"}
    dialled = client.post("/console/simulator/send", data={**form, "restart": "1"})
    assert "caractères, GSM-7" in dialled.text
    for key in ("1",):
        after = client.post("/console/simulator/send", data={**form, "press": key})
    after = client.post("/console/simulator/send", data={**form, "text": "Z990000003"})
    after = client.post("/console/simulator/send", data={**form, "text": "14032012"})
    assert after.status_code == 200
    handset = after.text.split('id="handset"')[1].split("</form>")[0]
    assert "Adam : 1 absence non justifiée" in handset
    assert (
        said("%(chars)s characters, %(encoding)s", chars=126, encoding="GSM-7") in handset
    )  # the last screen's length and encoding
    assert "&#34;state&#34;: &#34;absences&#34;" in after.text  # the session JSON
    logs = after.text.split('id="logs">')[1].split("</pre>")[0]
    assert "ussd" in logs
    assert "600000002" not in logs
    assert "Z990000003" not in logs  # masked, as logged
    long = client.post("/console/simulator/send", data={**form, "text": "x" * 2000})
    assert long.status_code == 200


def test_the_simulator_needs_a_sign_in_outside_development(console: TestClient) -> None:
    response = console.get("/console/simulator", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/signin"


def test_the_simulator_sms_thread_counts_segments(make_gateway: object) -> None:
    client = make_gateway(env="development")  # type: ignore[operator]
    page = client.get("/console/simulator?channel=sms&phone=%2B212600000002&lang=fr")
    form = {"csrf": csrf_of(page.text), "channel": "sms", "phone": "+212600000002"}
    thread = client.post("/console/simulator/send", data={**form, "text": "ABS"})
    assert said("%(n)s SMS segments", n=1) in thread.text
    forged = client.post("/console/simulator/send", data={**form, "csrf": "forged", "text": "x"})
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("fr", ["ABS", "NOTES", "INSCRIPTION", "0800 00 11 22", "*2020#"]),
        ("ar", ["ABS", "غياب", "0800 00 11 22", "*2020#"]),
    ],
)
def test_the_leaflet_is_one_a5_page_with_keywords_and_hotline(
    agent: TestClient, lang: str, words: list[str]
) -> None:
    response = agent.get(f"/console/leaflet.pdf?lang={lang}&school=Ecole%20Ibn%20Sina")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert (round(width), round(height)) == (420, 595)  # A5 in points
    text = reader.pages[0].extract_text()
    for word in words:
        assert word in text, word
    assert "Ecole Ibn Sina" in text


def test_operators_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    env = {"GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path}/gw.db", "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "gateway"]
    subprocess.run([*run, "migrate"], env=env, check=True, capture_output=True)  # noqa: S603

    def add(name: str, role: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603
            [*run, "operators", "add", name, "--role", role],
            env=env,
            input=password + "\n",
            capture_output=True,
            text=True,
        )

    added = add("leila", "supervisor", "a-long-password-1")
    assert added.returncode == 0, added.stderr
    again = add("leila", "agent", "a-long-password-1")
    assert again.returncode == 1
    assert "exists already" in again.stderr
    assert add("omar", "agent", "short").returncode == 2
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{tmp_path}/gw.db")
    with engine.connect() as conn:
        row = conn.execute(sa.text("select role, password_hash from console_operator")).one()
    engine.dispose()
    assert row.role == "supervisor"
    assert row.password_hash.startswith("$argon2id$")

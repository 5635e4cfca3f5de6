"""Faults through the whole gateway: a slow, failing, refusing or trickling backend, and a
Redis server that restarts. Every answer is a polite screen with HTTP 200, never a 500."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_sync
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.deps import runtime_of
from gateway.dialogs import texts
from gateway.i18n import translator
from gateway.outbox.model import OutChannel
from tests.databases import migrated
from tests.gateway.conftest import PUBLIC_URL, SmsPhone, UssdPhone, gateway_settings, sign_twilio
from tests.resilience.conftest import FaultyTransport

pytestmark = pytest.mark.redis

GUARDIAN = "+212600000001"  # demo guardian, Arabic, children Z990000001 (14/09/2018) and …02
AR = translator("ar")
BUSY_AR = AR.gettext(texts.BUSY)
ANSWER_BY_SMS_AR = AR.gettext(texts.ANSWER_BY_SMS)

Make = Callable[..., tuple[TestClient, FaultyTransport]]


def bind_by_sms(client: TestClient) -> None:
    SmsPhone(client, GUARDIAN).send("Z990000001 14092018")


def sink_for(client: TestClient, phone: str) -> list[dict[str, str]]:
    """What the sink sender received for `phone`, oldest first."""
    state: Any = runtime_of(client.app)
    return client.portal.call(state.senders[OutChannel.SMS].records, phone)  # type: ignore[no-any-return, union-attr]


def wait_for_sms(client: TestClient, phone: str, count: int = 1) -> list[dict[str, str]]:
    """The sink's records for `phone` once `count` arrived (bounded wait: fails, never hangs)."""
    for _ in range(200):
        sent = sink_for(client, phone)
        if len(sent) >= count:
            return sent
        time.sleep(0.05)
    raise AssertionError(f"{len(sink_for(client, phone))} SMS arrived, {count} expected")


def test_slow_backend_on_ussd_answers_by_sms_later(faulty_gateway: Make) -> None:
    client, transport = faulty_gateway(embedded_sender=True)
    bind_by_sms(client)
    phone = UssdPhone(client, GUARDIAN)
    phone.dial()
    transport.slow = ("/absences",)
    phone.press("1")  # absences: which child?
    screen = phone.press("1")
    assert screen == "END " + AR.gettext(texts.ANSWER_BY_SMS)
    assert phone.post("*".join(phone.path)).text == screen  # the aggregator repeats it
    sent = wait_for_sms(client, GUARDIAN)
    time.sleep(0.3)  # room for a second SMS, if one were (wrongly) on its way
    assert len(sink_for(client, GUARDIAN)) == 1  # once, despite the repeat
    assert sent[0]["text"].startswith("يوسف: ")  # the absences answer, paged for SMS
    assert transport.called("/absences") == 2  # the cut call and the follow-up


@pytest.mark.parametrize(
    ("patience_s", "answered"),
    [pytest.param(10.0, True, id="follow-up-waits-longer"), pytest.param(1.0, False, id="same")],
)
def test_a_follow_up_waits_longer_per_call_than_a_live_turn(
    faulty_gateway: Make, patience_s: float, answered: bool
) -> None:
    client, transport = faulty_gateway(
        embedded_sender=True,
        backend_timeout_s=1.0,  # a live call gives up after 1 s; the backend takes 1.5 s
        followup_backend_timeout_s=patience_s,
        followup_retry_cap_s=0.2,
        breaker_failures=1000,
    )
    transport.delay = 1.5
    bind_by_sms(client)
    phone = UssdPhone(client, GUARDIAN)
    phone.dial()
    transport.slow = ("/absences",)
    phone.press("1")
    assert phone.press("1") == "END " + ANSWER_BY_SMS_AR
    if answered:
        assert wait_for_sms(client, GUARDIAN)[0]["text"].startswith("يوسف: ")
    else:
        time.sleep(4)  # several tries, each cut at 1 s
        assert sink_for(client, GUARDIAN) == []
        assert transport.called("/absences") >= 3


@pytest.mark.parametrize(
    ("first_input", "promised"),
    [
        pytest.param("1", True, id="a-menu-choice"),
        pytest.param("Z990000001 14092018", False, id="a-code-and-birth-date"),
        pytest.param("PRE-2026-0000001", False, id="an-application-number"),
        pytest.param("١٤/٠٩/٢٠١٨", False, id="a-date-in-arabic-digits"),
    ],
)
def test_input_holding_identifiers_never_waits_in_the_outbox(
    faulty_gateway: Make, first_input: str, promised: bool
) -> None:
    client, transport = faulty_gateway()
    transport.fail = ("/guardians/lookup",)  # a caller never seen: nothing cached
    state: Any = runtime_of(client.app)
    phone = UssdPhone(client, "+212600000002")
    screen = phone.screen(phone.post(first_input))  # a shortcut dial: *2020*<input>#
    expected = ANSWER_BY_SMS_AR if promised else BUSY_AR
    lang_free = screen.removeprefix("END ")
    assert lang_free in (
        expected,
        *(t.gettext(texts.ANSWER_BY_SMS if promised else texts.BUSY) for t in (translator("fr"),)),
    ), screen
    backlog = client.portal.call(state.outbox.backlog)  # type: ignore[union-attr]
    assert backlog["followup"] == (1 if promised else 0)


def test_backend_500s_promise_an_sms_then_answer_stale_with_its_date(faulty_gateway: Make) -> None:
    client, transport = faulty_gateway(cache_ttl_absences_s=1)
    bind_by_sms(client)
    phone = UssdPhone(client, GUARDIAN)
    transport.fail = ("/absences",)
    phone.dial()
    phone.press("1")
    assert phone.press("1") == "END " + ANSWER_BY_SMS_AR  # nothing cached yet
    transport.fail = ()
    phone.dial()
    phone.press("1")
    fresh = phone.press("1")
    assert fresh.startswith("CON يوسف: ")
    time.sleep(1.1)  # let the absences entry go stale (it is kept for 24 h)
    transport.fail = ("/absences",)
    phone.dial()
    phone.press("1")
    stale = phone.press("1")
    assert stale.startswith("CON آخر تحديث ")
    assert "يوسف: " in stale


def admin_messages(client: TestClient, phone: str) -> list[dict[str, Any]]:
    response = client.get(
        "/admin/messages", params={"to": phone}, headers={"Authorization": "Bearer test-admin"}
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_backend_down_promises_one_sms_per_question_sent_once_it_is_back(
    faulty_gateway: Make,
) -> None:
    client, transport = faulty_gateway(
        embedded_sender=True,
        admin_token="test-admin",
        followup_retry_cap_s=0.2,
        breaker_failures=1000,  # this test is about the outbox, not the breaker
    )
    bind_by_sms(client)
    phone = UssdPhone(client, GUARDIAN)
    transport.fail = ("/absences",)
    for _ in range(2):  # the parent dials twice for the same question while Massar is down
        phone.dial()
        phone.press("1")
        assert phone.press("1") == "END " + ANSWER_BY_SMS_AR
    time.sleep(0.5)  # several tries at composing it, all failing
    assert sink_for(client, GUARDIAN) == []
    waiting = admin_messages(client, GUARDIAN)
    assert [(m["status"], m["text"], m["kind"]) for m in waiting] == [("queued", None, "followup")]
    transport.fail = ()
    sent = wait_for_sms(client, GUARDIAN)
    assert sent[0]["text"].startswith("يوسف: ")
    time.sleep(0.3)
    assert len(sink_for(client, GUARDIAN)) == 1  # one answer for the two calls
    [record] = admin_messages(client, GUARDIAN)
    assert record["status"] == "sent"
    assert sent[0]["text"].startswith(record["text"])  # then its options, numbered


def test_connection_refused_answers_busy_with_200(tmp_path: Path, redis_url: str | None) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nobody listens there
    settings = gateway_settings(tmp_path, redis_url, backend_url=f"http://127.0.0.1:{port}/api/v1")
    with TestClient(create_app(migrated(settings)), base_url=PUBLIC_URL) as client:
        response = UssdPhone(client, GUARDIAN).post("")
    assert response.status_code == 200
    assert response.text.startswith("END ")


def test_trickling_backend_is_cut_at_the_budget(faulty_gateway: Make) -> None:
    client, transport = faulty_gateway(sms_budget_s=1.0)
    transport.trickle = ("/guardians/lookup",)
    reply = SmsPhone(client, GUARDIAN).send("غياب")
    assert reply == BUSY_AR
    assert transport.called("/guardians/lookup") >= 1


def test_open_breaker_stops_calls_and_shows_in_readyz_and_metrics(faulty_gateway: Make) -> None:
    """An open breaker shows in /readyz's information; the gateway stays ready (it answers
    from its cache and by SMS), so a load balancer keeps it."""
    client, transport = faulty_gateway(breaker_failures=2, breaker_cooldown_s=60)
    transport.fail = ("/guardians/lookup",)
    for n in range(3):
        UssdPhone(client, f"+21260000010{n}").dial()
    made = transport.called("/guardians/lookup")
    assert made == 2
    # A cold caller's dial cannot be answered now: the menu will follow by SMS.
    assert UssdPhone(client, "+212600000109").dial() == "END " + ANSWER_BY_SMS_AR
    assert transport.called("/guardians/lookup") == made
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["info"]["breaker"] == {"ok": False, "state": "open"}
    metrics = client.get("/metrics").text
    assert "massar_breaker_state 1.0" in metrics
    # No caller was told "busy": each of the four was promised the menu by SMS.
    assert 'massar_followups_total{outcome="queued"} 4.0' in metrics
    assert "60000010" not in metrics  # no phone in any label


def test_metrics_count_turns_cache_and_single_flight(faulty_gateway: Make) -> None:
    client, _ = faulty_gateway()
    UssdPhone(client, GUARDIAN).dial()
    UssdPhone(client, GUARDIAN).dial()
    metrics = client.get("/metrics").text
    assert 'massar_turns_total{channel="ussd"} 2.0' in metrics
    assert 'massar_cache_total{kind="guardian",result="hit"} 1.0' in metrics
    assert 'massar_backend_calls_total{outcome="ok",route="lookup_guardian"} 1.0' in metrics
    assert "massar_turn_seconds_bucket" in metrics
    assert "600000001" not in metrics


def test_too_many_messages_get_a_wait_reply(faulty_gateway: Make) -> None:
    client, _ = faulty_gateway(rate_limit_per_minute=2)
    phone = SmsPhone(client, GUARDIAN)
    phone.send("غياب")
    phone.send("غياب")
    assert phone.send("غياب") == AR.gettext(texts.TOO_MANY)
    assert SmsPhone(client, "+212600000002").send("غياب") != AR.gettext(texts.TOO_MANY)


# --- Redis restarted mid-run -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(self, binary: str, port: int, workdir: Path) -> None:
        self.binary, self.port, self.workdir = binary, port, workdir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 (a fixed binary and our own arguments)
            [
                self.binary,
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis_sync.Redis(port=self.port, socket_timeout=0.5)
        for _ in range(100):
            try:
                if client.ping():
                    return
            except redis_sync.RedisError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed: cannot restart a Redis of our own")
    server = RedisServer(binary, _free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_redis_restart_mid_run_answers_politely_then_recovers(
    faulty_gateway: Make, own_redis: RedisServer
) -> None:
    client, _ = faulty_gateway(redis_url=f"redis://127.0.0.1:{own_redis.port}/0")
    assert UssdPhone(client, GUARDIAN).dial().startswith("CON ")
    own_redis.stop()
    during = UssdPhone(client, GUARDIAN).post("")
    assert during.status_code == 200
    assert during.text == "END " + BUSY_AR
    sms = SmsPhone(client, GUARDIAN).send("غياب")  # SMS too: TwiML with the busy text
    assert sms == BUSY_AR
    status = {"MessageSid": "SM" + "5" * 32, "MessageStatus": "delivered", "To": GUARDIAN}
    url = PUBLIC_URL + "/channels/sms/twilio/status"
    callback = client.post(
        "/channels/sms/twilio/status",
        data=status,
        headers={"X-Twilio-Signature": sign_twilio(url, status)},
    )
    assert callback.status_code == 503  # not recorded: Twilio is asked to try again
    assert callback.headers["retry-after"] == "60"
    own_redis.start()
    assert UssdPhone(client, GUARDIAN).dial().startswith("CON ")  # no app restart


def test_a_worker_at_its_cap_of_turns_answers_busy_at_once(faulty_gateway: Make) -> None:
    """Load shedding: past `max_turns_in_flight`, a turn is refused instead of queued."""
    from concurrent.futures import ThreadPoolExecutor

    client, transport = faulty_gateway(max_turns_in_flight=1)
    transport.slow = ("/guardians/lookup",)
    transport.delay = 1.0
    phones = [UssdPhone(client, GUARDIAN), UssdPhone(client, "+212600000002")]
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(phones[0].dial)
        time.sleep(0.3)  # the first turn is waiting on the slow backend
        second = pool.submit(phones[1].dial)
        screens = [first.result(timeout=10), second.result(timeout=10)]
    # No Redis read for a shed turn, so no stored language: the default, Arabic.
    assert screens[1] == "END " + AR.gettext(texts.BUSY)
    assert screens[0].startswith("CON ")  # the admitted turn still completes
    metrics = client.get("/metrics").text
    assert 'massar_shed_turns_total{channel="ussd"} 1.0' in metrics

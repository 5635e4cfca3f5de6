"""The gateway behind a real Kannel 1.4.5: phones text through fakesmsc (the operator), smsbox
posts to the gateway, the reply leaves through sendsms and comes back out of fakesmsc; the
delivery reports reach the message records (CHANNELS.md §14).

Kannel runs `deploy/kannel/kannel.conf` with fake links for its operators (tests/kannel/
harness.py). Each phone is used by one test only, so what fakesmsc received is that test's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from gateway.outbox.model import MessageKind, OutChannel, outbound
from tests.gateway.channels.conftest import lang_of
from tests.kannel import harness
from tests.kannel.conftest import LiveGateway, wait_for

pytestmark = pytest.mark.slow

Start = Callable[..., LiveGateway]


def reply_to(
    gateway: LiveGateway, phone: str, *, link: str = "IAM", count: int = 1
) -> list[harness.Mt]:
    """The `count` messages fakesmsc received for `phone`, once they are all there."""

    def check() -> list[harness.Mt]:
        found = gateway.link(link).received(phone)
        return found if len(found) >= count else []

    return wait_for(check, f"{count} SMS to the phone on {link}")


def record_of(
    gateway: LiveGateway, phone: str, status: str, *, count: int = 1
) -> dict[str, object]:
    """The phone's newest message record, once it has `count` and the newest is `status`."""

    def check() -> dict[str, object] | None:
        items = gateway.messages(phone)
        return items[0] if len(items) >= count and items[0]["status"] == status else None

    return wait_for(check, f"record {count} to be {status}")


def test_a_phone_texts_abs_and_the_answer_comes_back_out_of_fakesmsc(live_gateway: Start) -> None:
    gateway = live_gateway()
    phone = "+212600000002"  # Naima, French; her child Adam is Z990000003, born 14/03/2012
    operator = gateway.link("IAM")
    operator.send(phone, "2020", "Z990000003 14032012")
    [linked] = reply_to(gateway, phone)
    assert (linked.sender, linked.coding) == ("2020", "text")  # from the short code written to
    operator.send(phone, "2020", "ABS")
    _, absences = reply_to(gateway, phone, count=2)
    assert absences.sender == "2020"
    assert "Adam" in absences.text
    assert lang_of(absences.text) == "fr"
    # What the phone got is what the record says was sent (options as numbered lines).
    record = record_of(gateway, phone, "delivered", count=2)
    assert str(record["text"]) in absences.text
    assert record["kind"] == "reply"


def test_an_arabic_sms_round_trips_in_ucs2(live_gateway: Start) -> None:
    gateway = live_gateway()
    phone = "+212600000001"  # Khadija, Arabic
    gateway.link("IAM").send(phone, "2020", "غياب")  # UCS-2 from the phone, UTF-16BE to us
    [answer] = reply_to(gateway, phone)
    assert answer.coding == "ucs-2"  # Kannel sent it as UCS-2 (data_coding 8)
    assert lang_of(answer.text) == "ar"
    record = record_of(gateway, phone, "delivered")
    assert str(record["text"]) in answer.text


def test_delivery_reports_reach_the_record(live_gateway: Start) -> None:
    gateway = live_gateway()
    phone = "+212600000099"
    gateway.link("IAM").send(phone, "2020", "AIDE")
    reply_to(gateway, phone)
    # fakesmsc reports 8 (taken by the SMSC) and 1 (delivered) at once.
    record = record_of(gateway, phone, "delivered")
    assert record["error"] is None
    # Kannel filled in the link the report came from (`smsc=%i`): counted per operator link.
    registry = gateway.state.metrics.registry
    name = "massar_delivery_reports_total"
    iam = {"channel": "sms", "link": "IAM", "status": "delivered"}
    assert (registry.get_sample_value(name, iam) or 0) >= 1
    assert registry.get_sample_value(name, {**iam, "link": "unknown"}) is None


def test_a_call_smsbox_repeats_is_answered_once(live_gateway: Start) -> None:
    gateway = live_gateway()
    gateway.live.fail_first = True  # the gateway handles the SMS, smsbox sees a 503
    phone = "+212700000001"
    gateway.link("INWI").send(phone, "3030", "NOTES")
    [answer] = reply_to(gateway, phone, link="INWI")
    # smsbox called again with the same id after http-queue-delay (1 s here).
    wait_for(lambda: 2 in gateway.live.calls.values(), "smsbox to call again")
    wait_for(lambda: len(gateway.messages(phone)) == 1, "the record")
    assert len(gateway.link("INWI").received(phone)) == 1
    assert answer.sender == "3030"


def test_a_reply_leaves_from_the_short_code_and_link_it_was_sent_to(live_gateway: Start) -> None:
    gateway = live_gateway()
    phone = "+212600000003"  # GATEWAY_KANNEL_ROUTES would send it through IAM from 2020
    gateway.link("INWI").send(phone, "3030", "AIDE")
    [answer] = reply_to(gateway, phone, link="INWI")
    assert answer.sender == "3030"
    assert gateway.link("IAM").received(phone) == []


def test_an_alert_takes_the_route_of_its_prefix_and_long_texts_arrive_whole(
    live_gateway: Start,
) -> None:
    gateway = live_gateway()
    text = " ".join(f"Absence non justifiee le {day:02d}/05." for day in range(1, 15))
    assert len(text) > 306  # three GSM-7 parts
    arabic = "غياب غير مبرر يوم " * 9
    phone_inwi, phone_iam = "+212700000002", "+212600000004"
    for phone, body in ((phone_inwi, text), (phone_iam, arabic)):
        msg = outbound(
            MessageKind.ALERT,
            key=f"alert:{uuid.uuid4().hex}",
            channel=OutChannel.SMS,
            to=phone,
            text=body,
            now=datetime.now(UTC),
        )
        assert gateway.live.call(gateway.state.outbox.enqueue(msg)) is not None
    parts = reply_to(gateway, phone_inwi, link="INWI", count=3)
    assert {mt.sender for mt in parts} == {"3030"}  # +21270… -> INWI, from 3030
    assert [mt.part[1:] for mt in parts if mt.part] == [(3, 1), (3, 2), (3, 3)]
    assert harness.joined(parts, "utf-8") == text
    arabic_parts = reply_to(gateway, phone_iam, link="IAM", count=3)  # no route: IAM, 2020
    assert {mt.sender for mt in arabic_parts} == {"2020"}
    assert harness.joined(arabic_parts, "utf-16-be") == arabic
    assert gateway.link("INWI").received(phone_iam) == []


def test_refused_credentials_fail_the_message_without_retries(live_gateway: Start) -> None:
    gateway = live_gateway(kannel_sendsms_password="not-the-sendsms-password")
    phone = "+212600000005"
    gateway.link("IAM").send(phone, "2020", "AIDE")
    record = record_of(gateway, phone, "failed")
    assert record["error"] == "kannel:auth"
    assert gateway.link("IAM").received(phone) == []

"""USSD through a real Kannel 1.4.5: an operator's USSD gateway (a small SMPP 3.4 SMSC,
`tests/kannel/smsc.py`) sends each step as a deliver_sm with the USSD TLVs, bearerbox and
smsbox run `deploy/kannel/kannel.conf` (its `IAM-USSD` link bound to that SMSC), smsbox posts
to the gateway served by uvicorn and sends the screen back as a submit_sm with the TLVs of
the gateway's `X-Kannel-Meta-Data` (CHANNELS.md §15.A5).

Each phone is used by one test only; the SMSC keeps every submit_sm of the module in order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path

import pytest

from gateway.dialogs import texts
from gateway.state.ussd import EndedSessions
from gateway.text import is_gsm7, screen_length
from tests.gateway.channels.conftest import lang_of
from tests.gateway.channels.test_at_ussd import main_menu, prompt, say
from tests.kannel import harness
from tests.kannel.conftest import TOKEN, KannelSetup, LiveGateway, wait_for
from tests.kannel.smsc import (
    DC_DEFAULT,
    DC_UCS2,
    ITS_SESSION_INFO,
    USSD_SERVICE_OP,
    ShortMessage,
    Smsc,
    run_smsc,
    wait_bound,
)

pytestmark = pytest.mark.slow

Start = Callable[..., LiveGateway]
NEW, CONTINUE, END, RESPONSE = 0x01, 0x12, 0x11, 0x02  # GATEWAY_USSD_KANNEL_OPS defaults
LINK = "IAM-USSD"
ROOMY = 10.0  # the turn's budget at its ceiling: a loaded machine must not make screens "busy"
_NUMBERS = count(0x41)


@pytest.fixture(scope="module")
def smsc() -> Iterator[Smsc]:
    reason = harness.missing()
    if reason is not None:
        pytest.skip(f"real-Kannel tests: {reason}")
    with run_smsc(harness.free_port()) as running:
        yield running


@pytest.fixture(scope="module")
def kannel_setup(tmp_path_factory: pytest.TempPathFactory, smsc: Smsc) -> Iterator[KannelSetup]:
    """Kannel with its USSD link bound to the test's SMSC (the SMS links left unconnected)."""
    port = harness.free_port()
    with harness.run_kannel(
        tmp_path_factory.mktemp("kannel-ussd"),
        gateway_url=f"http://127.0.0.1:{port}",
        token=TOKEN,
        sendsms_password="test-kannel-sendsms-password",
        operators=(),
        smpp={LINK: smsc.port},
    ) as kannel:
        wait_bound(smsc)
        yield KannelSetup(kannel, port)


@dataclass
class Handset:
    """A phone in a session of the operator's USSD gateway; each step waits for its screen."""

    smsc: Smsc
    phone: str  # E.164
    number: int = field(default_factory=lambda: next(_NUMBERS))
    sequence: int = 0
    screens: list[ShortMessage] = field(default_factory=list)

    def send(self, text: str, op: int | None, *, end: bool = False) -> int:
        """Deliver one step; the count of submit_sm before it."""
        before = len(self.smsc.received())
        session = bytes([self.number, (self.sequence << 1) | int(end)])
        self.sequence += 1
        self.smsc.deliver(self.phone.removeprefix("+"), text, op=op, session=session)
        return before

    def step(self, text: str, op: int | None, *, end: bool = False) -> ShortMessage:
        before = self.send(text, op, end=end)

        def arrived() -> list[ShortMessage]:
            return self.smsc.received()[before:]

        [screen] = wait_for(arrived, f"the screen after {text[:12]!r}")
        self.screens.append(screen)
        return screen

    def dial(self) -> ShortMessage:
        self.sequence = 0
        return self.step("*2020#", NEW)

    def press(self, key: str) -> ShortMessage:
        return self.step(key, CONTINUE)


def op(screen: ShortMessage) -> int:
    return screen.tlvs[USSD_SERVICE_OP][0]


def ends(screen: ShortMessage) -> bool:
    return bool(screen.tlvs[ITS_SESSION_INFO][1] & 0x01)


def fits(screen: ShortMessage) -> bool:
    """One submit_sm of at most 160 octets: GSM-7 one character per octet, or UCS-2."""
    coding = DC_DEFAULT if is_gsm7(screen.text) else DC_UCS2
    return screen.data_coding == coding and len(screen.data) <= 160


def test_a_french_parent_dials_and_reaches_the_absences_in_three_screens(
    live_gateway: Start, smsc: Smsc
) -> None:
    live_gateway(ussd_budget_s=ROOMY)
    handset = Handset(smsc, "+212700000001")  # Rachid, French; Youssef Z990000001
    menu = handset.dial()
    assert (menu.service_type, menu.source, menu.destination) == ("USSD", "*2020#", "212700000001")
    assert (menu.text, menu.data_coding, op(menu)) == (main_menu("fr"), DC_DEFAULT, RESPONSE)
    assert menu.tlvs[ITS_SESSION_INFO] == bytes([handset.number, 0x00])  # echoed, open
    assert handset.press("1").text == prompt("fr", texts.ASK_CODE)
    assert handset.press("Z990000001").text == prompt("fr", texts.ASK_CHILD_DOB)
    absences = handset.press("14092018")
    assert absences.text.startswith("Youssef : 2 absences"), absences.text
    assert (op(absences), ends(absences)) == (END, True)  # the end bit on the last screen
    assert absences.tlvs[ITS_SESSION_INFO][0] == handset.number
    assert [ends(s) for s in handset.screens] == [False, False, False, True]
    assert all(map(fits, handset.screens))


def test_an_arabic_parent_gets_ucs2_screens_and_the_end_bit_on_the_last_page(
    live_gateway: Start, smsc: Smsc
) -> None:
    live_gateway(ussd_budget_s=ROOMY)
    handset = Handset(smsc, "+212600000001")  # Khadija, Arabic; the same children
    assert handset.dial().text == main_menu("ar")
    assert handset.press("1").text == prompt("ar", texts.ASK_CODE)
    assert handset.press("Z990000001").text == prompt("ar", texts.ASK_CHILD_DOB)
    pages = [handset.press("14092018")]
    while not ends(pages[-1]) and len(pages) < 5:
        pages.append(handset.press("9"))  # "9. more"
    assert pages[0].text.startswith("يوسف: ")
    assert [op(p) for p in pages] == [RESPONSE] * (len(pages) - 1) + [END]
    assert ends(pages[-1])
    assert {s.data_coding for s in handset.screens} == {DC_UCS2}  # Arabic in UCS-2
    assert all(screen_length(s.text) <= 80 for s in handset.screens)
    assert all(map(fits, handset.screens))
    assert {lang_of(s.text) for s in handset.screens} == {"ar"}


def test_a_session_the_network_aborts_gets_no_screen_and_a_late_answer_a_clean_end(
    live_gateway: Start, smsc: Smsc
) -> None:
    gateway = live_gateway(ussd_budget_s=ROOMY)
    handset = Handset(smsc, "+212600000002")  # Naima, French; Adam Z990000003
    handset.dial()
    assert handset.press("1").text == prompt("fr", texts.ASK_CODE)
    handset.send("", END, end=True)  # the network ends the session (release, end bit)
    ended = EndedSessions(gateway.state.sessions)
    key = ended.key(handset.phone, f"{LINK}:{handset.number:02x}")
    wait_for(lambda: gateway.live.call(ended.sessions.redis.exists(key)), "the abort")
    since_abort = len(smsc.received())
    late = handset.press("Z990000003")  # the answer, arriving after the end: no turn
    assert (late.text, op(late), ends(late)) == (say("fr", texts.SESSION_ENDED), END, True)
    assert smsc.received()[since_abort:] == [late]  # the abort itself sent nothing
    # The session number comes back in a new dial: a new session.
    assert handset.dial().text == main_menu("fr")


def test_a_step_without_the_session_tlv_ends_cleanly(live_gateway: Start, smsc: Smsc) -> None:
    live_gateway(ussd_budget_s=ROOMY)
    before = len(smsc.received())
    smsc.deliver("212600000003", "1", op=CONTINUE, session=None)
    [answer] = wait_for(lambda: smsc.received()[before:], "the answer")
    assert (answer.text, op(answer)) == (say("ar", texts.BUSY), END)
    assert ITS_SESSION_INFO not in answer.tlvs


def test_kannel_bound_as_a_transceiver_with_the_configured_credentials(smsc: Smsc) -> None:
    command, system_id, password = smsc.binds[-1]
    assert (command, system_id, password) == (0x09, harness.SMPP_USERNAME, harness.SMPP_PASSWORD)
    assert smsc.nacked == []


def test_the_shipped_config_keeps_the_ussd_service_before_the_sms_one() -> None:
    """Kannel takes the first default sms-service whose accepted-smsc fits the link."""
    config = harness.DEPLOYED_CONFIG.read_text(encoding="utf-8")
    assert config.index("/channels/ussd/kannel") < config.index("/channels/sms/kannel")
    rendered = harness.render_config(
        config,
        ports=harness.Ports.free(harness.link_ids(config)),
        workdir=Path("/tmp"),  # noqa: S108 - only rendered, never written
        gateway_url="http://127.0.0.1:1",
        token=TOKEN,
        sendsms_password="x",
        smpp={LINK: 2775},
    )
    assert "CHANGE_ME" not in rendered
    assert f"smsc-id = {LINK}" in rendered

"""USSD through an operator's SMPP USSD gateway and Kannel (`POST /channels/ussd/kannel`,
CHANNELS.md §15.A3, §15.A5).

Requests are the calls smsbox made, recorded in `tests/fixtures/kannel_ussd/`, with the step
kind, the session, the phone and the input changed per step (`OperatorPhone`), posted to the
gateway wired in-process to the seeded sandbox. The answer's `X-Kannel-Meta-Data` header is
read back as Kannel reads it: the TLVs of the `submit_sm` that carries the screen.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.channels.ussd import kannel as ussd_kannel
from gateway.channels.ussd.core import Op
from gateway.channels.ussd.ops import UssdOps, ops_for, parse_ops
from gateway.dialogs import texts
from gateway.settings import Settings
from gateway.text import is_gsm7, screen_length
from tests.gateway.channels import test_kannel_sms
from tests.gateway.channels.conftest import lang_of, total
from tests.gateway.channels.test_at_ussd import WALKS, main_menu, prompt, say
from tests.gateway.channels.test_kannel_sms import LOOPBACK, TOKEN, KannelGateway, Recorded

Calls = Callable[[], dict[str, dict[str, int]]]
FR_GUARDIAN = "+212700000001"  # Rachid, prefers French; Youssef Z990000001 (14/09/2018)
AR_GUARDIAN = "+212600000001"  # Khadija, prefers Arabic; the same children
NEW, CONTINUE, END, RESPONSE = 0x01, 0x12, 0x11, 0x02  # the defaults (UssdOps)
_SESSIONS = count(0x10)
make_kannel = test_kannel_sms.make_kannel  # the fixture: a gateway with the Kannel routes on
# The turn's budget at its ceiling: a loaded test machine must not turn a screen into "busy".
ROOMY = 10.0


def meta(op: int | None, session: bytes | None) -> str:
    """Kannel's `%D` for a deliver_sm with these TLVs (as recorded: raw octets URL-encoded)."""
    pairs = []
    if op is not None:
        pairs.append(f"ussd_service_op={quote(bytes([op]), safe='*')}")
    if session is not None:
        pairs.append(f"its_session_info={quote(session, safe='*')}")
    return "?smpp?" + "".join(f"{pair}&" for pair in pairs)


@dataclass(frozen=True)
class Answer:
    """The gateway's answer as Kannel turns it into a submit_sm."""

    status: int
    text: str
    op: int | None
    session: bytes | None
    coding: str | None

    @property
    def end(self) -> bool:
        return self.session is not None and bool(self.session[1] & 0x01)

    @classmethod
    def of(cls, response: httpx.Response) -> Answer:
        tlvs = ussd_kannel.smpp_meta(response.headers.get("x-kannel-meta-data", ""))
        op = tlvs.get("ussd_service_op")
        return cls(
            status=response.status_code,
            text=response.text,
            op=op[0] if op else None,
            session=tlvs.get("its_session_info"),
            coding=response.headers.get("x-kannel-coding"),
        )


@dataclass
class OperatorPhone:
    """A handset in a USSD session of the operator's gateway: one octet of session number,
    a sequence number in the second octet (as SMPP 3.4 draws its_session_info)."""

    client: TestClient
    phone: str
    number: int = field(default_factory=lambda: next(_SESSIONS) % 256)
    sequence: int = 0
    screens: list[Answer] = field(default_factory=list)

    def call(
        self, text: str, op: int | None, *, end: bool = False, kannel_id: str | None = None
    ) -> Recorded:
        info = bytes([self.number, (self.sequence << 1) | int(end)])
        self.sequence += 1
        body = text.encode("utf-8" if text.isascii() else "utf-16-be")
        changes = {"coding": "0", "charset": "UTF-8"}
        if not text.isascii():  # Kannel passes UCS-2 on as UTF-16BE (mo-recode off)
            changes = {"coding": "2", "charset": "UTF-16BE"}
        return Recorded.load("answer", "kannel_ussd").with_(
            body=body,
            id=kannel_id or str(uuid.uuid4()),
            meta=meta(op, info),
            **{"from": self.phone, **changes},
        )

    def step(self, text: str, op: int | None, *, end: bool = False) -> Answer:
        answer = Answer.of(self.call(text, op, end=end).send(self.client))
        self.screens.append(answer)
        return answer

    def dial(self) -> Answer:
        self.sequence = 0
        return self.step("*2020#", NEW)

    def press(self, key: str) -> Answer:
        return self.step(key, CONTINUE)

    def abort(self) -> Answer:
        return self.step("", END, end=True)


def fits(answer: Answer) -> str | None:
    """Why the screen does not fit one submit_sm from Kannel (160 octets: 160 GSM-7 characters,
    one per octet, or 80 UCS-2), or None."""
    limit, coding = (160, "0") if is_gsm7(answer.text) else (80, "2")
    if answer.coding != coding:
        return f"coding {answer.coding} for {answer.text!r}"
    length = screen_length(answer.text)
    return None if length <= limit else f"{length} > {limit}: {answer.text!r}"


@pytest.fixture
def ussd(make_ussd: Callable[..., KannelGateway]) -> TestClient:
    return make_ussd().client


@pytest.fixture
def make_ussd(make_kannel: Callable[..., KannelGateway]) -> Callable[..., KannelGateway]:
    """`make_kannel` with a roomy USSD budget."""

    def make(**overrides: object) -> KannelGateway:
        return make_kannel(**{"ussd_budget_s": ROOMY, **overrides})

    return make


# --- parsing what smsbox sends, no HTTP ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "op", "session", "text"),
    [
        ("dial", Op.NEW, b"\x2a\x00", "*2020#"),
        ("answer", Op.CONTINUE, b"\x2a\x02", "1"),
        ("answer_ucs2", Op.CONTINUE, b"\x2b\x02", "غياب"),
        ("abort", Op.ABORT, b"\x2a\x05", ""),
    ],
)
def test_recorded_steps_give_their_kind_session_and_input(
    name: str, op: Op, session: bytes, text: str
) -> None:
    call = Recorded.load(name, "kannel_ussd")
    step = ussd_kannel.parse_payload(
        dict(call.query),
        call.body,
        Settings(_env_file=None),  # type: ignore[call-arg]
    )
    assert (step.op, step.session, step.text) == (op, session, text)
    assert (step.phone, step.smsc, step.id) == (AR_GUARDIAN, "IAM-USSD", call.param("id"))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("?smpp?ussd_service_op=%01&its_session_info=*%00&", {"ussd_service_op": b"\x01"}),
        ("?smpp?", {}),
        ("", {}),
        ("?other?x=1&?smpp?its_session_info=%FF%FE&", {"its_session_info": b"\xff\xfe"}),
        ("?smpp?ussd_service_op=+&", {"ussd_service_op": b" "}),  # Kannel writes 0x20 as +
    ],
)
def test_smpp_meta_reads_the_tlv_octets(raw: str, expected: dict[str, bytes]) -> None:
    found = ussd_kannel.smpp_meta(raw)
    assert {k: v for k, v in found.items() if k in expected} == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", [UssdOps()]),
        ("continue=0x02", [UssdOps(continue_=2)]),
        (
            "new=1,continue=18,end=17,response=2;INWI-USSD:continue=2,end=0x11",
            [UssdOps(), UssdOps(smsc="INWI-USSD", continue_=2, end=17)],
        ),
    ],
)
def test_operator_ops_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: list[UssdOps]
) -> None:
    monkeypatch.setenv("GATEWAY_USSD_KANNEL_OPS", value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert list(parse_ops(settings.ussd_kannel_ops)) == (expected if value else [])
    assert ops_for(settings.ussd_kannel_ops, "INWI-USSD") == expected[-1]
    assert ops_for(settings.ussd_kannel_ops, "IAM-USSD") == expected[0]


@pytest.mark.parametrize(
    "value",
    ["new=256", "start=1", "continue=abc", "new=1,continue=1", "IAM;x:new=1"],
)
def test_bad_operator_ops_are_refused_at_start(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("GATEWAY_USSD_KANNEL_OPS", value)
    with pytest.raises(ValueError, match="USSD op"):
        create_app(Settings(_env_file=None))  # type: ignore[call-arg]


# --- a session, screen by screen -------------------------------------------------------------


def test_a_french_dial_walks_to_the_absences_and_the_last_screen_ends_the_session(
    ussd: TestClient,
) -> None:
    phone = OperatorPhone(ussd, FR_GUARDIAN)
    menu = phone.dial()
    assert (menu.status, menu.text, menu.op, menu.coding) == (200, main_menu("fr"), RESPONSE, "0")
    assert menu.session == bytes([phone.number, 0x00])  # echoed, end bit clear
    assert phone.press("1").text == prompt("fr", texts.ASK_CODE)
    assert phone.press("Z990000001").text == prompt("fr", texts.ASK_CHILD_DOB)
    absences = phone.press("14092018")
    assert absences.text.startswith("Youssef : 2 absences"), absences.text
    assert "0. Menu" not in absences.text  # nothing left to choose: the session ends
    assert (absences.op, absences.end) == (END, True)
    assert absences.session == bytes([phone.number, (3 << 1) | 1])
    assert [fits(screen) for screen in phone.screens] == [None] * 4


def test_an_arabic_walk_is_ucs2_within_80_characters_and_ends_on_the_last_page(
    ussd: TestClient,
) -> None:
    phone = OperatorPhone(ussd, AR_GUARDIAN)
    assert phone.dial().text == main_menu("ar")
    phone.press("1")
    phone.press("Z990000001")
    pages = [phone.press("14092018")]
    while not pages[-1].end and len(pages) < 5:  # "9": the next page
        pages.append(phone.press("9"))
    assert pages[0].text.startswith("يوسف: ")
    more = f"9. {say('ar', texts.MORE)}\n0. {say('ar', texts.MENU)}"
    assert [(p.op, p.end, p.text.endswith(more)) for p in pages[:-1]] == [
        (RESPONSE, False, True)
    ] * (len(pages) - 1)
    assert (pages[-1].op, pages[-1].end) == (END, True)
    assert len(pages) > 1  # the absences do not fit one Arabic screen
    assert [s.coding for s in phone.screens] == ["2"] * len(phone.screens)
    assert [fits(screen) for screen in phone.screens] == [None] * len(phone.screens)
    assert {lang_of(screen.text) for screen in phone.screens} == {"ar"}


def test_a_repeated_step_from_smsbox_gets_the_same_screen_and_no_backend_call(
    ussd: TestClient, backend_calls: Calls
) -> None:
    phone = OperatorPhone(ussd, FR_GUARDIAN)
    phone.dial()
    call = phone.call("1", CONTINUE)
    first = call.send(ussd)
    calls = backend_calls()
    again = call.send(ussd)  # smsbox calls again with the same %I when an answer is lost
    assert again.content == first.content
    assert again.headers["x-kannel-meta-data"] == first.headers["x-kannel-meta-data"]
    assert backend_calls() == calls


def test_results_keep_the_session_open_when_the_operator_wants_it(
    make_ussd: Callable[..., KannelGateway],
) -> None:
    phone = OperatorPhone(make_ussd(ussd_kannel_end_on_result=False).client, FR_GUARDIAN)
    phone.dial()
    for key in ("1", "Z990000001"):
        phone.press(key)
    absences = phone.press("14092018")
    assert (absences.op, absences.end) == (RESPONSE, False)
    assert absences.text.endswith("\n0. Menu")


def test_each_operator_gets_its_own_step_values(
    make_ussd: Callable[..., KannelGateway],
) -> None:
    client = make_ussd(ussd_kannel_ops="IAM-USSD:new=0x21,continue=0x22,end=0x23,response=0x24")
    phone = OperatorPhone(client.client, FR_GUARDIAN)
    menu = phone.step("*2020#", 0x21)
    assert (menu.text, menu.op) == (main_menu("fr"), 0x24)
    assert phone.step("1", 0x22).op == 0x24
    ignored = phone.step("1", CONTINUE)  # the common value means nothing for this operator
    assert (ignored.op, ignored.end) == (0x23, True)


# --- bad input: an answer Kannel can deliver or a clean end, never a 500 --------------------


def test_a_step_without_the_session_tlv_ends_cleanly_without_a_turn(
    ussd: TestClient, backend_calls: Calls
) -> None:
    response = Recorded.load("no_session", "kannel_ussd").with_(id=str(uuid.uuid4())).send(ussd)
    answer = Answer.of(response)
    assert (answer.status, answer.text, answer.op) == (200, say("ar", texts.BUSY), END)
    assert answer.session is None  # nothing to echo: Kannel sends it without the TLV
    assert total(backend_calls()) == 0


@pytest.mark.parametrize("op", [0x00, 0x02, 0x99, None])
def test_an_unknown_step_kind_ends_the_session_it_names(
    ussd: TestClient, backend_calls: Calls, op: int | None
) -> None:
    phone = OperatorPhone(ussd, AR_GUARDIAN)
    answer = phone.step("1", op)
    assert (answer.status, answer.op, answer.end) == (200, END, True)
    assert answer.session is not None
    assert answer.session[0] == phone.number
    assert total(backend_calls()) == 0


def test_an_answer_in_a_session_that_ended_gets_a_clean_end(
    ussd: TestClient, backend_calls: Calls
) -> None:
    phone = OperatorPhone(ussd, FR_GUARDIAN)
    phone.dial()
    for key in ("1", "Z990000001"):
        phone.press(key)
    assert phone.press("14092018").end
    calls = backend_calls()
    reused = phone.press("1")  # the same session number, after we ended it
    assert (reused.text, reused.op, reused.end) == (say("fr", texts.SESSION_ENDED), END, True)
    assert backend_calls() == calls  # no turn, no child's data
    # A dial may take the number again (it is one octet): a new session, the menu.
    assert phone.dial().text == main_menu("fr")
    again = phone.press("1")
    assert again.text.startswith(say("fr", texts.CHOOSE_CHILD)), again.text
    assert "Youssef (2AP)" in again.text  # bound in the session that ended


def test_the_ending_steps_id_sent_again_with_other_input_gets_its_screen_not_a_turn(
    ussd: TestClient, backend_calls: Calls
) -> None:
    """The end of a session lets the repeat of the step that ended it through (smsbox's
    retry): a step that borrows that id to carry new input gets the remembered screen, never
    a turn past the end."""
    phone = OperatorPhone(ussd, FR_GUARDIAN)
    phone.dial()
    for key in ("1", "Z990000001"):
        phone.press(key)
    ending = phone.call("14092018", CONTINUE)
    first = Answer.of(ending.send(ussd))
    assert first.end
    calls = backend_calls()
    forged = Answer.of(phone.call("2", CONTINUE, kannel_id=ending.param("id")).send(ussd))
    assert (forged.text, forged.op, forged.end) == (first.text, END, True)
    assert backend_calls() == calls
    other = Answer.of(phone.call("2", CONTINUE).send(ussd))  # a new id: the clean end
    assert (other.text, other.end) == (say("fr", texts.SESSION_ENDED), True)


def test_a_network_abort_mid_session_sends_nothing_and_ends_the_session(
    ussd: TestClient, backend_calls: Calls
) -> None:
    phone = OperatorPhone(ussd, AR_GUARDIAN)
    phone.dial()
    phone.press("1")
    aborted = phone.abort()
    assert (aborted.status, aborted.text, aborted.op) == (200, "", None)  # omit-empty: nothing
    calls = backend_calls()
    late = phone.press("Z990000001")  # the code, arriving after the network ended the session
    assert (late.text, late.end) == (say("ar", texts.SESSION_ENDED), True)
    assert backend_calls() == calls


def test_an_abort_given_by_the_end_bit_alone_is_an_abort(ussd: TestClient) -> None:
    phone = OperatorPhone(ussd, AR_GUARDIAN)
    phone.dial()
    aborted = phone.step("", CONTINUE, end=True)
    assert (aborted.status, aborted.text) == (200, "")
    assert phone.press("1").text == say("ar", texts.SESSION_ENDED)


def test_an_input_of_200_characters_gets_a_screen_that_fits(ussd: TestClient) -> None:
    phone = OperatorPhone(ussd, FR_GUARDIAN)
    phone.dial()
    answer = phone.press("9" * 200)
    assert (answer.status, answer.op, answer.end) == (200, RESPONSE, False)
    assert answer.text.startswith(say("fr", texts.PICK_AN_OPTION))
    assert fits(answer) is None


def test_a_body_past_the_cut_is_cut_and_past_the_limit_refused(ussd: TestClient) -> None:
    """Past 2 KiB the body is cut (a screen still comes back); past the route's limit (8 KiB,
    issue #21) it gets 413 before anything is read or checked."""
    phone = OperatorPhone(ussd, FR_GUARDIAN)
    phone.dial()
    answer = phone.press("7" * 4_000)
    assert (answer.status, answer.op) == (200, RESPONSE)
    assert fits(answer) is None
    assert phone.press("7" * 100_000).status == 413


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"from": "MASSAR"}, "sender"),
        ({"from": ""}, "sender"),
        ({"id": None}, "id"),
        ({"id": "a b"}, "id"),
        ({"charset": "KOI8"}, None),  # undecodable input: no input, the screen asks again
        ({"coding": "7"}, None),
    ],
)
def test_odd_fields_still_get_a_deliverable_answer(
    ussd: TestClient, changes: dict[str, str | None], reason: str | None
) -> None:
    phone = OperatorPhone(ussd, FR_GUARDIAN)
    phone.dial()
    response = phone.call("1", CONTINUE).with_(**changes).send(ussd)
    answer = Answer.of(response)
    assert answer.status == 200
    assert answer.text
    assert answer.session is not None
    assert answer.session[0] == phone.number
    assert answer.end is (reason is not None)


def test_a_post_url_without_meta_reads_the_meta_data_header(ussd: TestClient) -> None:
    call = Recorded.load("dial", "kannel_ussd").with_(id=str(uuid.uuid4()), meta=None)
    answer = Answer.of(call.send(ussd))  # the recorded X-Kannel-Meta-Data header is kept
    assert (answer.status, answer.op, answer.session) == (200, RESPONSE, b"\x2a\x00")
    assert answer.text == main_menu("ar")


@pytest.mark.parametrize(
    ("client", "token"),
    [
        pytest.param(("203.0.113.9", 50000), TOKEN, id="outside-the-allowlist"),
        pytest.param(LOOPBACK, "wrong-token", id="bad-token"),
        pytest.param(LOOPBACK, None, id="no-token"),
    ],
)
def test_requests_outside_the_allowlist_or_without_the_token_are_refused(
    make_ussd: Callable[..., KannelGateway],
    backend_calls: Calls,
    client: tuple[str, int],
    token: str | None,
) -> None:
    gateway = make_ussd(client=client).client
    call = Recorded.load("dial", "kannel_ussd").with_(token=token, id=str(uuid.uuid4()))
    response = call.send(gateway)
    assert response.status_code == 403
    assert "x-kannel-meta-data" not in response.headers
    assert total(backend_calls()) == 0


# --- every screen fits what Kannel sends in one submit_sm -----------------------------------


@pytest.mark.parametrize(("number", "keys"), WALKS)
def test_every_screen_of_a_walk_fits_one_submit_sm(
    make_ussd: Callable[..., KannelGateway], number: str, keys: list[str]
) -> None:
    # The Africa's Talking walks, session kept open on results so every screen is seen.
    phone = OperatorPhone(make_ussd(ussd_kannel_end_on_result=False).client, number)
    phone.dial()
    for key in keys:
        phone.press(key)
    assert [why for why in map(fits, phone.screens) if why is not None] == []


# --- logs ------------------------------------------------------------------------------------


def test_a_sessions_logs_hold_no_phone_code_date_or_name(
    make_ussd: Callable[..., KannelGateway], capsys: pytest.CaptureFixture[str]
) -> None:
    client = make_ussd(log_level="INFO", log_format="json").client
    capsys.readouterr()
    phone = OperatorPhone(client, FR_GUARDIAN)
    phone.dial()
    for key in ("1", "Z990000001", "14092018"):
        phone.press(key)
    phone.press("1")  # after the end: the clean end is logged
    other = OperatorPhone(client, AR_GUARDIAN)
    other.dial()
    other.abort()
    refused = Recorded.load("no_session", "kannel_ussd").with_(id=str(uuid.uuid4()))
    refused.send(client)
    # The gateway's lines (the test's own HTTP client logs the URLs it calls, phone included).
    lines = [
        json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")
    ]
    ours = [line for line in lines if str(line.get("logger", "")).startswith("gateway")]
    events = {line.get("event") for line in ours}
    assert {"ussd_answer_after_end", "ussd_aborted_by_network", "kannel_ussd_ended"} <= events
    raw = json.dumps(ours, ensure_ascii=False)
    for secret in ("700000001", "600000001", "Z990000001", "14092018", "Youssef", "يوسف"):
        assert secret not in raw, secret

"""The WhatsApp templates of alerts (issue #26 item 5): `python -m gateway whatsapp templates`
prints the JSON Meta's template API takes, for every kind × language, and what the gateway
sends refers to exactly those names, languages and parameter counts. Minimal templates (the
default, DOMAIN.md §6) carry no data about the child; the plan gives WhatsApp alerts a
template, and no other channel."""

from __future__ import annotations

import io
import json
import re
from contextlib import redirect_stdout
from datetime import UTC, datetime

import pytest

from backend_client.models import GuardianContact
from gateway.alerts.plan import Alert, plan
from gateway.alerts.templates import (
    DETAILS,
    TEMPLATES,
    definitions,
    resend_template,
    template_call,
)
from gateway.cli import main
from gateway.i18n import LANGS
from gateway.outbox.model import OutChannel
from gateway.state.alerts.preferences import ALERT_KINDS, AlertPreference

PLACEHOLDER = re.compile(r"\{\{(\d+)\}\}")
NAME_RULE = re.compile(r"[a-z0-9_]{1,512}")  # Meta: lowercase letters, digits, underscores
PAYLOADS = {
    "absence": [
        {
            "name_fr": "Youssef",
            "name_ar": "يوسف",
            "date": "2026-12-07",
            "start_time": "08:30",
            "end_time": "10:30",
            "hours": 2,
        },
        {"name_fr": "Youssef", "name_ar": "يوسف", "date": "2026-12-08", "hours": 1.5},
    ],
    "marks": [{"name_fr": "Youssef", "name_ar": "يوسف", "semester": 1, "school_year": "2026"}],
    "enrolment": [
        {"name_fr": "Youssef", "name_ar": "يوسف", "number": "PRE-2026-0001234", "to": "approved"}
    ],
    "digest": [],
}


def test_every_kind_and_language_is_defined_in_metas_template_shape() -> None:
    items = definitions()
    kinds = {*ALERT_KINDS, "digest"}
    assert {t.kind for t in TEMPLATES.values()} == kinds
    assert len(items) == len(TEMPLATES) * len(LANGS)
    assert len({(i["name"], i["language"]) for i in items}) == len(items)
    for item in items:
        assert set(item) == {"name", "language", "category", "components"}
        assert NAME_RULE.fullmatch(item["name"]), item["name"]
        assert item["language"] in LANGS
        assert item["category"] == "UTILITY"
        [body] = item["components"]
        assert body["type"] == "BODY"
        text = body["text"]
        numbers = [int(n) for n in PLACEHOLDER.findall(text)]
        assert numbers == list(range(1, len(numbers) + 1)), text  # {{1}}, {{2}}… in order
        # Meta refuses a body that starts or ends with a parameter, or is one.
        assert not text.startswith("{{")
        assert not text.rstrip(".").endswith("}}")
        assert len(text) <= 1024
        if numbers:
            [examples] = body["example"]["body_text"]
            assert len(examples) == len(numbers)
            assert all(examples)
        else:
            assert "example" not in body


def test_every_template_is_translated_with_the_same_parameters() -> None:
    for template in TEMPLATES.values():
        english = sorted(PLACEHOLDER.findall(template.body))
        texts = {lang: template.text(lang) for lang in LANGS}
        for lang, text in texts.items():
            assert text != template.body, (template.name, lang)  # translated, not the msgid
            assert sorted(PLACEHOLDER.findall(text)) == english, (template.name, lang)
        assert texts["ar"] != texts["fr"]


@pytest.mark.parametrize("detail", DETAILS)
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_what_the_gateway_sends_names_a_defined_template_with_its_parameter_count(
    kind: str, lang: str, detail: str
) -> None:
    defined = {
        (i["name"], i["language"]): len(PLACEHOLDER.findall(i["components"][0]["text"]))
        for i in definitions()
    }
    call = template_call(kind, PAYLOADS[kind], lang, detail=detail)
    assert (call.name, call.lang) in defined
    assert len(call.params) == defined[(call.name, call.lang)]
    for param in call.params:  # Meta refuses line breaks, tabs and runs of spaces
        assert param
        assert "\n" not in param
        assert "\t" not in param
        assert "     " not in param


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_minimal_templates_carry_nothing_about_the_child(kind: str, lang: str) -> None:
    call = template_call(kind, PAYLOADS[kind], lang)  # the default detail
    assert call.params == ()
    text = TEMPLATES[(kind, "minimal")].text(lang)
    assert "Youssef" not in text
    assert "يوسف" not in text


def test_full_detail_names_the_child_and_what_changed() -> None:
    call = template_call("absence", PAYLOADS["absence"], "fr", detail="full")
    assert call.name == "massar_absence_full"
    assert call.params == ("Youssef", "07/12 08:30-10:30, 08/12 (1,5 h)")
    assert call.key == "absence_full.fr"
    call = template_call("enrolment", PAYLOADS["enrolment"], "ar", detail="full")
    assert call.params[:2] == ("PRE-2026-0001234", "يوسف")


def test_the_cli_prints_exactly_the_definitions() -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["whatsapp", "templates"]) == 0
    assert json.loads(out.getvalue()) == definitions()
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["whatsapp", "templates", "--keys"]) == 0
    keys = [line.split("\t")[0] for line in out.getvalue().splitlines()]
    assert "absence.fr" in keys
    assert "absence_full.ar" in keys
    assert "digest.ar" in keys


@pytest.mark.parametrize(
    ("channel", "detail", "expected"),
    [
        ("whatsapp", "minimal", ("massar_absence", ())),
        ("whatsapp", "full", ("massar_absence_full", ("Youssef", "07/12 08:30-10:30"))),
        (None, "full", None),  # SMS: no template
    ],
)
def test_the_plan_gives_whatsapp_alerts_their_template(
    channel: str | None, detail: str, expected: tuple[str, tuple[str, ...]] | None
) -> None:
    alert = Alert(
        event_id="evt_000000001",
        seq=1,
        kind="absence",
        student_id="stu_1",
        guardian_ids=("gua_1",),
        payload=PAYLOADS["absence"][0],
    )
    contact = GuardianContact.model_validate(
        {
            "id": "gua_1",
            "first_name_fr": "Khadija",
            "first_name_ar": "خديجة",
            "phones": ["+212600000001"],
            "preferred_lang": "fr",
        }
    )
    pref = AlertPreference(channel=channel, detail=detail, welcomed=True)
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    out = plan([alert], {"gua_1": contact}, {"+212600000001": pref}, now=now, hold_until=None)
    [msg] = out.messages
    assert msg.channel is (OutChannel.WHATSAPP if channel else OutChannel.SMS)
    got = (msg.template.name, msg.template.params) if msg.template is not None else None
    assert got == expected
    assert "Youssef" in msg.text  # the session text keeps its detail either way


def test_a_kind_without_its_own_template_goes_as_the_digests() -> None:
    """A kind added later (a weekly summary…) still reaches a parent outside the window."""
    call = template_call("weekly", [{"name_fr": "Youssef"}], "fr", detail="full")
    assert (call.name, call.params) == ("massar_digest", ())


@pytest.mark.parametrize(
    ("label", "text", "expected"),
    [
        ("massar_absence_full.fr", "Massar : …", ("massar_absence", "fr")),  # params not kept
        ("massar_marks.ar", "…", ("massar_marks", "ar")),
        (None, "مسار: غياب غير مبرر", ("massar_digest", "ar")),  # went as text: the digest's
        (None, "Massar: Youssef absent", ("massar_digest", "fr")),
    ],
)
def test_an_alert_sent_again_goes_as_a_minimal_template(
    label: str | None, text: str, expected: tuple[str, str]
) -> None:
    call = resend_template(label, text)
    assert (call.name, call.lang) == expected
    assert call.params == ()

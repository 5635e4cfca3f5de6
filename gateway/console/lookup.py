"""An agent's view of one phone, on a need-to-know basis (issue #21).

The lookup is a POST (a number never lands in a URL, a browser's history or a proxy's log);
the helpdesk links to it by item id. Before any check an agent sees the masked number, how
many children are linked, each child's initial and level, binding dates, the lockout state,
the alert preferences, the live conversations' states, and each recent message's time,
channel, kind and delivery status: no first name (the guardian's neither), no absence, no
mark, no message text. Once the agent types a child's Massar code and birth date as the
caller gives them (the channels' check), that child's name, absences and marks, and the
texts of the messages about that child only (`outbound_message.student_id`), are shown in
that agent's session for `GATEWAY_CONSOLE_REVEAL_S` (15 minutes). Each reveal is an audit
line: operator, masked phone, the child's opaque id, the reason. A failed check counts
against the operator (`CheckCounter`), never against the phone typed.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from backend_client import Deadline
from backend_client.errors import BackendError, NotFound, NotLinked, RateLimited, VerificationLocked
from backend_client.models import AbsencesPage, Grades, GuardianLookup, StudentSummary
from gateway.console.web import (
    ConsoleDenied,
    Operator,
    OperatorDep,
    check_form,
    form_of,
    page,
    t_of,
)
from gateway.deps import runtime
from gateway.dialogs.absences import AbsenceFigures, absence_figures
from gateway.dialogs.conversation import BINDING_VALIDITY
from gateway.dialogs.inputs import parse_birth_date, parse_massar_code
from gateway.dialogs.model import ChannelKind
from gateway.i18n import N_
from gateway.phones import to_e164
from gateway.state.alerts.preferences import AlertPreference
from gateway.state.errors import StoreUnavailable
from gateway.state.outbox.records import mask_address
from gateway.state.store import SESSION_TTL_S
from gateway.text import normalise

if TYPE_CHECKING:  # a type only: the runtime imports the modules that route to this one
    from gateway.runtime import Runtime

__all__ = ["render_lookup", "router"]

router = APIRouter(prefix="/console", include_in_schema=False)
MESSAGES_SHOWN = 20
LOOKUP_BUDGET_S = 5.0
DEFAULT_REASON = "the caller gave the child's code and birth date"
NOT_A_PHONE = N_("This is not a phone number: type it as the caller says it.")


@dataclass(frozen=True, slots=True)
class Revealed:
    """One checked child's data, shown in the session of the agent who checked it."""

    id: str
    name_ar: str
    name_fr: str
    class_label: str
    until: datetime
    absences: AbsencesPage | None = None
    figures: AbsenceFigures | None = None  # the channels' rule, from `absences`
    grades: Grades | None = None
    error: str | None = None  # a msgid


@dataclass(frozen=True, slots=True)
class ChildRow:
    """What an agent sees of a child before a check: an initial and a level."""

    id: str  # the backend's opaque id (the supervisor's revoke form names it)
    initial_ar: str
    initial_fr: str
    level: str
    bound_at: datetime | None
    bound_until: datetime | None
    revealed: Revealed | None = None


@dataclass(frozen=True, slots=True)
class MessageRow:
    at: datetime
    channel: str
    kind: str
    status: str
    template: str | None  # the WhatsApp template it went out as: no data about the child
    text: str | None = None  # only about a child this session checked, while still kept
    shown: bool = False  # about a checked child (its text, when still kept, is shown)


@dataclass
class PhoneView:
    phone: str
    masked: str
    known: bool = False  # a guardian is known for the number
    preferred_lang: str | None = None
    backend_error: str | None = None  # a msgid
    children: list[ChildRow] = field(default_factory=list)
    failures: int = 0
    locked_until: datetime | None = None
    messages: list[MessageRow] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    preference: AlertPreference | None = None  # None: the database did not answer
    # What the check needs, never given to a template.
    _guardian: GuardianLookup | None = None

    @property
    def revealed(self) -> list[Revealed]:
        return [c.revealed for c in self.children if c.revealed is not None]

    def student(self, student_id: str) -> StudentSummary | None:
        students = self._guardian.students if self._guardian is not None else []
        return next((s for s in students if s.id == student_id), None)


def _initial(name: str) -> str:
    return name.strip()[:1] + "." if name.strip() else "?"


async def phone_view(state: Runtime, phone: str, operator: Operator | None = None) -> PhoneView:
    """What the agent may see of `phone`: before any check, no name, no mark, no text; the
    children `operator`'s session checked within the last 15 minutes, in full."""
    view = PhoneView(phone=phone, masked=mask_address(phone))
    try:
        view._guardian = await state.backend.resilient.lookup_guardian(
            phone, deadline=Deadline.after(LOOKUP_BUDGET_S)
        )
    except (NotLinked, NotFound):
        view.backend_error = N_("No guardian is known for this number.")
    except BackendError:
        view.backend_error = N_("Massar does not answer now: try again in a moment.")
    revealed = await _revealed_ids(state, phone, operator)
    bound = await state.bindings.bound_since(phone)
    if view._guardian is not None:
        view.known = True
        view.preferred_lang = view._guardian.guardian.preferred_lang.value
        for student in view._guardian.students:
            at = bound.get(student.id)
            shown = None
            if student.id in revealed:
                shown = await _child_data(state, view._guardian, student, revealed[student.id])
            view.children.append(
                ChildRow(
                    id=student.id,
                    initial_ar=_initial(student.first_name_ar),
                    initial_fr=_initial(student.first_name_fr),
                    level=student.level.code,
                    bound_at=at,
                    bound_until=at + BINDING_VALIDITY if at else None,
                    revealed=shown,
                )
            )
    view.failures, until = await state.lockout.phone_state(phone)
    view.locked_until = datetime.fromtimestamp(until, UTC) if until else None
    try:
        records = await state.records.for_address(phone, limit=MESSAGES_SHOWN)
    except StoreUnavailable:
        records = []
    visible = {c.id for c in view.children if c.revealed is not None}
    view.messages = [_message_row(m, visible) for m in records]
    view.conversations = await conversations(state, phone)
    try:
        view.preference = (await state.preferences.for_phones([phone]))[phone]
    except StoreUnavailable:
        view.preference = None
    return view


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=UTC)  # SQLite gives naive UTC times


def _message_row(record: dict[str, Any], visible: set[str]) -> MessageRow:
    shown = record.get("student") in visible
    return MessageRow(
        at=_utc(datetime.fromisoformat(str(record["created_at"]))),
        channel=str(record["channel"]),
        kind=str(record["kind"]),
        status=str(record["status"]),
        template=record.get("template"),
        text=record["text"] if shown else None,
        shown=shown,
    )


def _phone_h(state: Runtime, phone: str) -> str:
    return state.keyring.address_h(phone)


async def _revealed_ids(state: Runtime, phone: str, operator: Operator | None) -> dict[str, float]:
    if operator is None or operator.session is None:
        return {}
    found: dict[str, float] = await state.console.sessions.revealed(
        operator.session, _phone_h(state, phone)
    )
    return found


async def _child_data(
    state: Runtime, guardian: GuardianLookup, child: StudentSummary, until: float
) -> Revealed:
    """A checked child's absences and marks, read on the guardian's behalf."""
    backend, gid = state.backend.resilient, guardian.guardian.id
    deadline = Deadline.after(LOOKUP_BUDGET_S)
    shown = Revealed(
        id=child.id,
        name_ar=child.first_name_ar,
        name_fr=child.first_name_fr,
        class_label=child.class_label,
        until=datetime.fromtimestamp(until, UTC),
    )
    absences: AbsencesPage | None = None
    grades: Grades | None = None
    try:
        absences = await backend.absences(child.id, on_behalf_of=gid, limit=20, deadline=deadline)
        meta = await backend.meta(deadline=deadline)
        for semester in sorted({meta.semester, 1}, reverse=True):  # as the channels fall back
            try:
                grades = await backend.grades(
                    child.id, meta.school_year, semester, on_behalf_of=gid, deadline=deadline
                )
                break
            except NotFound:
                continue  # no marks published for this semester yet
    except NotFound:
        pass
    except BackendError:
        error = N_("Massar does not answer now: try again in a moment.")
        return Revealed(**{**_fields(shown), "error": error})
    figures = absence_figures(absences) if absences is not None else None
    return Revealed(
        **{**_fields(shown), "absences": absences, "figures": figures, "grades": grades}
    )


def _fields(shown: Revealed) -> dict[str, Any]:
    return {name: getattr(shown, name) for name in Revealed.__slots__}


async def last_alert(
    state: Runtime, phone: str, pref: AlertPreference | None
) -> dict[str, Any] | None:
    """The newest alert sent to `phone`, on SMS/WhatsApp or on its linked Telegram chat."""
    addresses = [phone] + ([pref.chat_address] if pref and pref.chat_address else [])
    found = [
        m
        for address in addresses
        for m in await state.records.for_address(address, limit=50)
        if m["kind"] == "alert"
    ]
    return max(found, key=lambda m: m["created_at"], default=None)


async def conversations(state: Runtime, phone: str) -> list[dict[str, Any]]:
    """Each channel's live session: its state, language and when it last moved (from its TTL)."""
    found = []
    now = time.time()
    for kind in ChannelKind:
        session = await state.sessions.load(kind, phone)
        if session is None:
            continue
        left_ms = await state.redis.pttl(state.sessions.keys.session(kind, phone))
        last = now - (SESSION_TTL_S[kind] - max(left_ms, 0) / 1000)
        found.append(
            {
                "channel": kind.value,
                "state": session.state,
                "lang": session.lang.value if session.lang else "",
                "at": datetime.fromtimestamp(last, UTC),
            }
        )
    return found


async def render_lookup(
    request: Request,
    operator: Operator,
    phone: str,
    *,
    status_code: int = 200,
    audit: bool = True,
    **context: Any,
) -> HTMLResponse:
    """The lookup page of `phone` (audited as a lookup unless `audit` is False)."""
    state = runtime(request)
    view = await phone_view(state, phone, operator)
    if audit:
        await state.console.audit.write(operator.name, "lookup", phone=phone)
    return page(request, "lookup.html", status_code=status_code, query="", view=view, **context)


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, operator: OperatorDep) -> HTMLResponse:
    return await lookup_form(request, operator)


@router.get("/lookup", response_class=HTMLResponse)
async def lookup_form(request: Request, operator: OperatorDep) -> HTMLResponse:
    """The empty form: a number in the URL (`?phone=`) is never looked up."""
    return page(request, "lookup.html", query="", view=None)


@router.post("/lookup", response_class=HTMLResponse)
async def lookup(request: Request, operator: OperatorDep) -> HTMLResponse:
    form = await form_of(request)
    check_form(request, form, operator)
    raw = form.get("phone", "")[:64]
    if not raw.strip():
        return page(request, "lookup.html", query="", view=None)
    phone = to_e164(raw)
    if phone is None:
        error = t_of(request).gettext(NOT_A_PHONE)
        return page(request, "lookup.html", status_code=400, query=raw, view=None, error=error)
    return await render_lookup(request, operator, phone)


@router.post("/lookup/verify", response_class=HTMLResponse)
async def verify(request: Request, operator: OperatorDep) -> Response:
    form = await form_of(request)
    check_form(request, form, operator)
    t = t_of(request)
    state = runtime(request)
    phone = to_e164(form.get("phone", "")[:64])
    if phone is None:
        error = t.gettext(NOT_A_PHONE)
        return page(request, "lookup.html", status_code=400, query="", view=None, error=error)
    view = await phone_view(state, phone, operator)
    code = parse_massar_code(normalise(form.get("code", "")[:40]))
    birth = parse_birth_date(normalise(form.get("birth_date", "")[:20]))
    if code is None or birth is None:
        error = t.gettext("Type the Massar code and the birth date (DDMMYYYY).")
        return page(request, "lookup.html", query="", view=view, checked={"error": error})
    result = await check_child(state, view, operator, code, birth)
    await state.console.audit.write(
        operator.name,
        "verify_child",
        phone=phone,
        detail="match" if result.get("child") else "no match",
    )
    child: StudentSummary | None = result.get("child")
    if child is None:
        return page(
            request,
            "lookup.html",
            query="",
            view=view,
            checked={"error": t.gettext(result["error"])},
        )
    if operator.session is None:  # cannot be: an operator here comes from a session
        raise ConsoleDenied(401, "signin")
    seconds = state.settings.console_reveal_s
    await state.console.sessions.reveal(operator.session, _phone_h(state, phone), child.id, seconds)
    reason = " ".join(form.get("reason", "").split())[:500] or DEFAULT_REASON
    await state.console.audit.write(
        operator.name, "reveal_child", phone=phone, child=child.id, reason=reason
    )
    return await render_lookup(request, operator, phone, audit=False, checked={"child": child.id})


async def check_child(
    state: Runtime, view: PhoneView, operator: Operator, code: str, birth: Any
) -> dict[str, Any]:
    """The channels' check, counted against the operator: locked? -> backend verify ->
    linked to this guardian? The child, or an error msgid."""
    lockout, backend, phone = state.lockout, state.backend.resilient, view.phone
    checks = state.console.checks
    if not await checks.reserve(operator.name):  # counted as a failure until it matches
        return {"error": N_("You made too many wrong checks: wait 15 minutes or ask a supervisor.")}
    locked = N_("This number or this code is locked after too many wrong answers.")
    if await lockout.is_locked(phone, code):
        await checks.succeeded(operator.name)  # not the agent's mistake
        return {"error": locked}
    try:
        verified = await backend.verify_student(
            code, birth, phone, deadline=Deadline.after(LOOKUP_BUDGET_S)
        )
    except (VerificationLocked, RateLimited):
        await checks.succeeded(operator.name)
        return {"error": locked}
    except BackendError:
        await checks.succeeded(operator.name)
        return {"error": N_("Massar does not answer now: try again in a moment.")}
    child = view.student(verified.student_id) if verified.match and verified.student_id else None
    if child is None:
        return {"error": N_("The code and the birth date do not match a child of this number.")}
    await checks.succeeded(operator.name)
    return {"child": child}

"""An agent's view of one phone: the guardian's children, bindings, lockout, messages and
conversations (states and times, never text); marks and absences only after the agent types a
child's Massar code and birth date as the caller gives them — the check and the lockout of
every other channel (`gateway.dialogs.answers.verify`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.exc import SQLAlchemyError

from backend_client import Deadline
from backend_client.errors import (
    BackendError,
    NotFound,
    NotLinked,
    RateLimited,
    VerificationLocked,
)
from backend_client.models import AbsencesPage, Grades, GuardianLookup, StudentSummary
from gateway.alerts.preferences import AlertPreference
from gateway.console.web import (
    OperatorDep,
    check_form,
    form_of,
    page,
    t_of,
)
from gateway.dialogs.absences import absence_figures
from gateway.dialogs.conversation import BINDING_VALIDITY
from gateway.dialogs.inputs import parse_birth_date, parse_massar_code
from gateway.dialogs.model import ChannelKind
from gateway.dialogs.texts import N_
from gateway.outbox.records import mask_address
from gateway.phones import to_e164
from gateway.store import SESSION_TTL_S
from gateway.text import normalise

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)
MESSAGES_SHOWN = 20
LOOKUP_BUDGET_S = 5.0


@dataclass
class Child:
    student: StudentSummary
    bound_at: datetime | None
    bound_until: datetime | None


@dataclass
class PhoneView:
    phone: str
    masked: str
    guardian: GuardianLookup | None = None
    backend_error: str | None = None  # a msgid
    children: list[Child] = field(default_factory=list)
    failures: int = 0
    locked_until: datetime | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    conversations: list[dict[str, Any]] = field(default_factory=list)
    preference: AlertPreference | None = None  # None: the database did not answer


async def phone_view(state: Any, phone: str) -> PhoneView:
    """Everything an agent sees of `phone` before any check (one guardian lookup, cached)."""
    view = PhoneView(phone=phone, masked=mask_address(phone))
    try:
        view.guardian = await state.resilient_backend.lookup_guardian(
            phone, deadline=Deadline.after(LOOKUP_BUDGET_S)
        )
    except (NotLinked, NotFound):
        view.backend_error = N_("No guardian is known for this number.")
    except BackendError:
        view.backend_error = N_("Massar does not answer now: try again in a moment.")
    bound = await state.turns.bindings.bound_since(phone)
    if view.guardian is not None:
        for student in view.guardian.students:
            at = bound.get(student.id)
            view.children.append(Child(student, at, at + BINDING_VALIDITY if at else None))
    view.failures, until = await state.turns.lockout.phone_state(phone)
    view.locked_until = datetime.fromtimestamp(until, UTC) if until else None
    try:
        view.messages = await state.records.for_address(phone, limit=MESSAGES_SHOWN)
    except SQLAlchemyError:
        view.messages = []
    view.conversations = await conversations(state, phone)
    try:
        view.preference = (await state.preferences.for_phones([phone]))[phone]
    except SQLAlchemyError:
        view.preference = None
    return view


async def last_alert(state: Any, phone: str, pref: AlertPreference | None) -> dict[str, Any] | None:
    """The newest alert sent to `phone`, on SMS/WhatsApp or on its linked Telegram chat."""
    addresses = [phone] + ([pref.chat_address] if pref and pref.chat_address else [])
    found = [
        m
        for address in addresses
        for m in await state.records.for_address(address, limit=50)
        if m["kind"] == "alert"
    ]
    return max(found, key=lambda m: m["created_at"], default=None)


async def conversations(state: Any, phone: str) -> list[dict[str, Any]]:
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


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, operator: OperatorDep) -> HTMLResponse:
    return await lookup(request, operator)


@router.get("/lookup", response_class=HTMLResponse)
async def lookup(request: Request, operator: OperatorDep) -> HTMLResponse:
    raw = request.query_params.get("phone", "")[:64]
    if not raw.strip():
        return page(request, "lookup.html", query="", view=None)
    phone = to_e164(raw)
    if phone is None:
        t = t_of(request)
        return page(
            request,
            "lookup.html",
            status_code=400,
            query=raw,
            view=None,
            error=t.gettext("This is not a phone number: type it as the caller says it."),
        )
    view = await phone_view(request.app.state, phone)
    await request.app.state.console_audit.write(operator.name, "lookup", phone=phone)
    return page(request, "lookup.html", query=raw, view=view)


@router.post("/lookup/verify", response_class=HTMLResponse)
async def verify(request: Request, operator: OperatorDep) -> HTMLResponse:
    form = await form_of(request)
    check_form(request, form, operator)
    t = t_of(request)
    state = request.app.state
    phone = to_e164(form.get("phone", "")[:64])
    if phone is None:
        return RedirectResponse("/console/lookup", status_code=303)  # type: ignore[return-value]
    view = await phone_view(state, phone)
    code = parse_massar_code(normalise(form.get("code", "")[:40]))
    birth = parse_birth_date(normalise(form.get("birth_date", "")[:20]))
    result: dict[str, Any] = {}
    if code is None or birth is None:
        result["error"] = t.gettext("Type the Massar code and the birth date (DD/MM/YYYY).")
    else:
        result = await check_child(state, view, code, birth)
        result["error"] = t.gettext(result["error"]) if result.get("error") else None
        await state.console_audit.write(
            operator.name,
            "verify_child",
            phone=phone,
            detail="match" if result.get("child") else "no match",
        )
    return page(request, "lookup.html", query=phone, view=view, checked=result)


async def check_child(state: Any, view: PhoneView, code: str, birth: Any) -> dict[str, Any]:
    """The channels' check: locked? -> backend verify -> linked to this guardian? -> data."""
    lockout, backend, phone = state.turns.lockout, state.resilient_backend, view.phone
    if await lockout.is_locked(phone, code):
        return {"error": N_("This number or this code is locked after too many wrong answers.")}
    deadline = Deadline.after(LOOKUP_BUDGET_S)
    try:
        verified = await backend.verify_student(code, birth, phone, deadline=deadline)
    except (VerificationLocked, RateLimited):
        return {"error": N_("This number or this code is locked after too many wrong answers.")}
    except BackendError:
        return {"error": N_("Massar does not answer now: try again in a moment.")}
    linked = {c.student.id: c.student for c in view.children}
    if not (verified.match and verified.student_id in linked):
        await lockout.record_failure(phone, code)
        return {"error": N_("The code and the birth date do not match a child of this number.")}
    child = linked[verified.student_id]
    if view.guardian is None:  # cannot be: children come from the guardian lookup
        return {"error": N_("No guardian is known for this number.")}
    gid = view.guardian.guardian.id
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
        return {"child": child, "error": N_("Massar does not answer now: try again in a moment.")}
    figures = absence_figures(absences) if absences is not None else None  # the channels' rule
    return {"child": child, "absences": absences, "figures": figures, "grades": grades}

"""Supervisor actions on a phone, each with a reason and audited; an agent gets 403."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.alerts.templates import resend_template
from gateway.console.forget import forget_number
from gateway.console.lookup import NOT_A_PHONE, last_alert, render_lookup
from gateway.console.web import (
    Operator,
    OperatorDep,
    SupervisorDep,
    check_form,
    form_of,
    page,
    t_of,
)
from gateway.deps import runtime
from gateway.outbox.model import MessageKind, OutChannel, outbound
from gateway.phones import to_e164
from gateway.state.errors import StoreUnavailable

__all__ = ["router"]

router = APIRouter(prefix="/console/actions", include_in_schema=False)
MIN_REASON_CHARS = 5


@dataclass(frozen=True, slots=True)
class Asked:
    form: dict[str, str]
    phone: str
    reason: str


async def _asked(request: Request, operator: Operator) -> Asked | Response:
    """The posted action (CSRF checked), or the page saying what is missing."""
    form = await form_of(request)
    check_form(request, form, operator)
    t = t_of(request)
    phone = to_e164(form.get("phone", "")[:64])
    if phone is None:
        error = t.gettext(NOT_A_PHONE)
        return page(request, "lookup.html", status_code=400, query="", view=None, error=error)
    reason = " ".join(form.get("reason", "").split())[:500]
    if len(reason) < MIN_REASON_CHARS:
        return await _done(request, phone, error=t.gettext("Give a reason for this action."))
    return Asked(form, phone, reason)


async def _done(
    request: Request, phone: str, *, note: str | None = None, error: str | None = None
) -> Response:
    """The lookup page again (the action itself is the audit line)."""
    operator: Operator = request.state.console_operator
    status = 400 if error else 200
    return await render_lookup(
        request, operator, phone, status_code=status, audit=False, note=note, error=error
    )


@router.post("/clear-lockout", response_class=HTMLResponse)
async def clear_lockout(request: Request, operator: SupervisorDep) -> Response:
    asked = await _asked(request, operator)
    if isinstance(asked, Response):
        return asked
    await runtime(request).lockout.clear_phone(asked.phone)
    await runtime(request).console.audit.write(
        operator.name, "clear_lockout", phone=asked.phone, reason=asked.reason
    )
    note = t_of(request).gettext("The lockout of this number is cleared.")
    return await _done(request, asked.phone, note=note)


@router.post("/revoke-binding", response_class=HTMLResponse)
async def revoke_binding(request: Request, operator: SupervisorDep) -> Response:
    asked = await _asked(request, operator)
    if isinstance(asked, Response):
        return asked
    t = t_of(request)
    student = asked.form.get("student", "")[:64]
    revoked = await runtime(request).bindings.revoke(asked.phone, student)
    await runtime(request).console.audit.write(
        operator.name,
        "revoke_binding",
        phone=asked.phone,
        reason=asked.reason,
        detail="revoked" if revoked else "no such binding",
    )
    note = (
        t.gettext("The child is no longer bound to this number.")
        if revoked
        else t.gettext("This child was not bound to this number.")
    )
    return await _done(request, asked.phone, note=note)


@router.post("/opt-out", response_class=HTMLResponse)
async def opt_out(request: Request, operator: SupervisorDep) -> Response:
    return await _alerts_choice(request, operator, out=True)


@router.post("/opt-in", response_class=HTMLResponse)
async def opt_in(request: Request, operator: SupervisorDep) -> Response:
    return await _alerts_choice(request, operator, out=False)


async def _alerts_choice(request: Request, operator: Operator, *, out: bool) -> Response:
    """Opt the number out of alerts, or back in, at the parent's request."""
    asked = await _asked(request, operator)
    if isinstance(asked, Response):
        return asked
    t, state = t_of(request), runtime(request)
    try:
        await (state.preferences.opt_out if out else state.preferences.opt_in)(asked.phone)
    except StoreUnavailable:
        error = t.gettext("The database does not answer now: try again in a moment.")
        return await _done(request, asked.phone, error=error)
    await state.console.audit.write(
        operator.name, "opt_out" if out else "opt_in", phone=asked.phone, reason=asked.reason
    )
    note = (
        t.gettext("This number gets no more alerts.")
        if out
        else t.gettext("This number gets alerts again.")
    )
    return await _done(request, asked.phone, note=note)


@router.post("/resend-alert", response_class=HTMLResponse)
async def resend_alert(request: Request, operator: SupervisorDep) -> Response:
    """Send the newest alert of this number again, as a new message through the outbox."""
    asked = await _asked(request, operator)
    if isinstance(asked, Response):
        return asked
    t, state = t_of(request), runtime(request)
    try:
        prefs = await state.preferences.for_phones([asked.phone])
        record = await last_alert(state, asked.phone, prefs[asked.phone])
    except StoreUnavailable:
        error = t.gettext("The database does not answer now: try again in a moment.")
        return await _done(request, asked.phone, error=error)
    if record is None:
        return await _done(
            request, asked.phone, error=t.gettext("No alert was sent to this number.")
        )
    if record["text"] is None:
        error = t.gettext("The text of the last alert is no longer kept: it cannot be sent again.")
        return await _done(request, asked.phone, error=error)
    now, channel = datetime.now(UTC), OutChannel(record["channel"])
    msg = outbound(
        MessageKind.ALERT,
        key=f"resend:{record['id']}:{now.timestamp():.6f}",
        channel=channel,
        to=record["to"],
        text=record["text"],
        now=now,
        # Outside WhatsApp's 24-hour window it goes as a minimal template (#26).
        template=resend_template(record.get("template"), record["text"])
        if channel is OutChannel.WHATSAPP
        else None,
    )
    try:
        await state.outbox.enqueue(msg)
    except (StoreUnavailable, OSError):
        error = t.gettext("The outbox does not answer now: try again in a moment.")
        return await _done(request, asked.phone, error=error)
    await state.console.audit.write(
        operator.name,
        "resend_alert",
        phone=asked.phone,
        reason=asked.reason,
        detail=f"record {record['id']} as {msg.id}",
    )
    return await _done(request, asked.phone, note=t.gettext("The last alert is queued again."))


@router.post("/forget", response_class=HTMLResponse)
async def forget(request: Request, operator: SupervisorDep) -> Response:
    """Erase what the gateway keeps about this number, at the parent's request (Law 09-08)."""
    asked = await _asked(request, operator)
    if isinstance(asked, Response):
        return asked
    t, state = t_of(request), runtime(request)
    if asked.form.get("confirm") != "1":
        return await _done(request, asked.phone, error=t.gettext("Tick the box to confirm."))
    try:
        forgotten = await forget_number(state, asked.phone)
    except (StoreUnavailable, OSError):
        error = t.gettext("The database does not answer now: try again in a moment.")
        return await _done(request, asked.phone, error=error)
    await state.console.audit.write(
        operator.name,
        "forget_number",
        phone=asked.phone,
        reason=asked.reason,
        detail=forgotten.summary(),
    )
    note = t.gettext(
        "This number is forgotten: its bindings, alert preferences, helpdesk messages, "
        "message texts, Telegram link and conversations are erased."
    )
    return await _done(request, asked.phone, note=note)


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request, operator: OperatorDep) -> Response:
    if not operator.supervisor:
        return page(
            request,
            "message.html",
            status_code=403,
            message=t_of(request).gettext("This action is for supervisors."),
        )
    entries = await runtime(request).console.audit.recent(200)
    return page(request, "audit.html", entries=entries)

"""Supervisor actions on a phone, each with a reason and audited; an agent gets 403."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.lookup import phone_view
from gateway.console.web import (
    Operator,
    OperatorDep,
    SupervisorDep,
    check_form,
    form_of,
    page,
    t_of,
)
from gateway.phones import to_e164

__all__ = ["router"]

router = APIRouter(prefix="/console/actions", include_in_schema=False)
MIN_REASON_CHARS = 5


async def _prepare(request: Request, operator: Operator) -> tuple[dict[str, str], str | None]:
    form = await form_of(request)
    check_form(request, form, operator)
    return form, to_e164(form.get("phone", "")[:64])


async def _done(
    request: Request, phone: str, *, note: str | None = None, error: str | None = None
) -> Response:
    view = await phone_view(request.app.state, phone)
    status = 400 if error else 200
    return page(
        request, "lookup.html", status_code=status, query=phone, view=view, note=note, error=error
    )


@router.post("/clear-lockout", response_class=HTMLResponse)
async def clear_lockout(request: Request, operator: SupervisorDep) -> Response:
    form, phone = await _prepare(request, operator)
    t = t_of(request)
    if phone is None:
        return page(
            request,
            "lookup.html",
            status_code=400,
            query="",
            view=None,
            error=t.gettext("This is not a phone number: type it as the caller says it."),
        )
    reason = form.get("reason", "").strip()[:500]
    if len(reason) < MIN_REASON_CHARS:
        return await _done(request, phone, error=t.gettext("Give a reason for this action."))
    await request.app.state.turns.lockout.clear_phone(phone)
    await request.app.state.console_audit.write(
        operator.name, "clear_lockout", phone=phone, reason=reason
    )
    return await _done(request, phone, note=t.gettext("The lockout of this number is cleared."))


@router.post("/revoke-binding", response_class=HTMLResponse)
async def revoke_binding(request: Request, operator: SupervisorDep) -> Response:
    form, phone = await _prepare(request, operator)
    t = t_of(request)
    if phone is None:
        return page(
            request,
            "lookup.html",
            status_code=400,
            query="",
            view=None,
            error=t.gettext("This is not a phone number: type it as the caller says it."),
        )
    reason = form.get("reason", "").strip()[:500]
    student = form.get("student", "")[:64]
    if len(reason) < MIN_REASON_CHARS:
        return await _done(request, phone, error=t.gettext("Give a reason for this action."))
    revoked = await request.app.state.turns.bindings.revoke(phone, student)
    await request.app.state.console_audit.write(
        operator.name,
        "revoke_binding",
        phone=phone,
        reason=reason,
        detail="revoked" if revoked else "no such binding",
    )
    note = (
        t.gettext("The child is no longer bound to this number.")
        if revoked
        else t.gettext("This child was not bound to this number.")
    )
    return await _done(request, phone, note=note)


@router.get("/audit", response_class=HTMLResponse)
async def audit(request: Request, operator: OperatorDep) -> Response:
    if not operator.supervisor:
        return page(
            request,
            "message.html",
            status_code=403,
            message=t_of(request).gettext("This action is for supervisors."),
        )
    entries = await request.app.state.console_audit.recent(200)
    return page(request, "audit.html", entries=entries)

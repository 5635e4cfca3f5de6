"""`/console/operators` (supervisors): list the operators, disable or enable one, set a new
password, have a supervisor enrol their second factor again; each with a reason, audited.
Disabling and a new password end the operator's sessions at once (`sessions_after`, read on
every request, and the Redis sessions deleted)."""

from __future__ import annotations

from functools import partial

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from gateway.console.operators import NoSuchOperator, check_password
from gateway.console.web import SupervisorDep, check_form, form_of, page, t_of
from gateway.deps import runtime

__all__ = ["router"]

router = APIRouter(prefix="/console/operators", include_in_schema=False)
MIN_REASON_CHARS = 5


async def _list(request: Request, *, status: int = 200, **context: object) -> Response:
    store = runtime(request).console.operators
    operators = await anyio.to_thread.run_sync(store.all)
    return page(request, "operators.html", status_code=status, operators=operators, **context)


@router.get("", response_class=HTMLResponse)
async def operators(request: Request, operator: SupervisorDep) -> Response:
    return await _list(request)


@router.post("/{action}", response_class=HTMLResponse)
async def change(request: Request, action: str, operator: SupervisorDep) -> Response:
    form = await form_of(request)
    check_form(request, form, operator)
    t, state = t_of(request), runtime(request)
    store = state.console.operators
    name = form.get("name", "")[:64]
    reason = " ".join(form.get("reason", "").split())[:500]
    if action not in ("disable", "enable", "reset-password", "reset-totp"):
        return await _list(request, status=404, error=t.gettext("There is no such action."))
    if len(reason) < MIN_REASON_CHARS:
        return await _list(request, status=400, error=t.gettext("Give a reason for this action."))
    if action == "disable" and name == operator.name:
        error = t.gettext("You cannot disable yourself.")
        return await _list(request, status=400, error=error)
    try:
        if action == "disable":
            await anyio.to_thread.run_sync(store.disable, name)
        elif action == "enable":
            await anyio.to_thread.run_sync(store.enable, name)
        elif action == "reset-password":
            password = form.get("password", "")[:256]
            check_password(password)
            await anyio.to_thread.run_sync(partial(store.set_password, name, password))
        else:
            await anyio.to_thread.run_sync(partial(store.set_totp, name, None))
    except NoSuchOperator:
        return await _list(request, status=404, error=t.gettext("There is no such operator."))
    except ValueError:
        error = t.gettext("A password has at least 10 characters.")
        return await _list(request, status=400, error=error)
    if action != "enable":
        await state.console.sessions.end_all(name)
    await state.console.audit.write(
        operator.name,
        f"operator_{action.replace('-', '_')}",
        reason=reason,
        detail=f"operator {name}",
    )
    return await _list(request, note=t.gettext("Done."))

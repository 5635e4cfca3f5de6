"""Sign-in and sign-out of the console (argon2 passwords, lockout of repeated failures)."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.console.web import (
    SIGNIN_CSRF_COOKIE,
    check_form,
    clear_session,
    form_of,
    new_operator_session,
    page,
    read_session,
    set_session,
    t_of,
)
from gateway.settings import Env

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)


def _signin_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "signin.html", status_code=status, csrf=token, error=error)
    settings = request.app.state.settings
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=settings.env is Env.PRODUCTION,
    )
    return response


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request) -> Response:
    t = t_of(request)
    expired = request.query_params.get("expired") == "1"
    return _signin_page(
        request,
        error=t.gettext("Your session ended after 15 minutes without activity: sign in again.")
        if expired
        else None,
    )


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request) -> Response:
    form = await form_of(request)
    check_form(request, form, None)
    t = t_of(request)
    state = request.app.state
    name = form.get("name", "").strip()[:64]
    password = form.get("password", "")[:256]
    wrong = t.gettext("Wrong name or password.")
    if not name or not password:
        return _signin_page(request, error=wrong, status=400)
    if await state.console_signin_lock.locked(name):
        await state.console_audit.write(name, "signin_locked")
        return _signin_page(
            request,
            error=t.gettext("Too many failed sign-ins: wait 15 minutes or ask a supervisor."),
            status=429,
        )
    found = await state.console_operators.check(name, password)
    if found is None:
        await state.console_signin_lock.failed(name)
        await state.console_audit.write(name, "signin_failed")
        return _signin_page(request, error=wrong, status=401)
    await state.console_signin_lock.succeeded(name)
    await state.console_audit.write(found.name, "signin")
    response = RedirectResponse("/console/lookup", status_code=303)
    set_session(request, response, new_operator_session(found.name, found.role))
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/console")
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    operator, _ = read_session(request)
    form = await form_of(request)
    if operator is not None:
        check_form(request, form, operator)
        await request.app.state.console_audit.write(operator.name, "signout")
    response = RedirectResponse("/console/signin", status_code=303)
    clear_session(response)
    return response

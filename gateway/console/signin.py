"""Sign-in and sign-out of the console: argon2 passwords, counted per (name, address) and
per address in one atomic step with the check (`SigninGate`), a second factor for
supervisors (TOTP, RFC 6238, with pyotp; enrolled at the first sign-in from a QR code drawn
on the server as SVG), and a new server-side session at every sign-in."""

from __future__ import annotations

import secrets
import time
from typing import Any

import anyio.to_thread
import pyotp
import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from gateway.channels.common import same_secret
from gateway.console.web import (
    PENDING_COOKIE,
    SESSION_COOKIE,
    SIGNIN_CSRF_COOKIE,
    check_form,
    clear_session,
    client_address,
    form_of,
    page,
    read_session,
    set_session,
    t_of,
)
from gateway.deps import runtime
from gateway.i18n import N_
from gateway.settings import Env
from gateway.state.console.operators import DEMO_PASSWORDS, DEMO_TOTP_SECRET, StoredOperator

__all__ = ["router"]

router = APIRouter(prefix="/console", include_in_schema=False)
PENDING_S = 300  # between the password and the second factor
TOTP_ISSUER = "Massar gateway"
LOCKED = N_("Too many failed sign-ins: wait 15 minutes or ask a supervisor.")
SLOW = N_("Too many sign-ins for this name: try again in a few seconds.")
WRONG = N_("Wrong name or password.")
_GATE = {"locked": LOCKED, "slow": SLOW}
WRONG_CODE = N_("Wrong code: type the 6 digits your authenticator app shows now.")
TOTP_UNREADABLE = N_("Your second factor cannot be read: ask another supervisor to enrol it again.")


def _secure(request: Request) -> bool:
    return bool(runtime(request).settings.env is Env.PRODUCTION)


def _signin_page(request: Request, *, error: str | None = None, status: int = 200) -> Response:
    token = secrets.token_urlsafe(24)
    response = page(request, "signin.html", status_code=status, csrf=token, error=error)
    response.set_cookie(
        SIGNIN_CSRF_COOKIE,
        token,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
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


async def _audit_failure(request: Request, name: str, action: str) -> None:
    """A failed sign-in, at a bounded rate (a stranger can cause as many as they like)."""
    await runtime(request).console.audit.write_bounded(
        name or "anonymous", action, detail=f"from {client_address(request)}"
    )


@router.post("/signin", response_class=HTMLResponse)
async def signin(request: Request) -> Response:
    form = await form_of(request)
    check_form(request, form, None)
    t = t_of(request)
    state = runtime(request)
    name = form.get("name", "").strip()[:64]
    password = form.get("password", "")[:256]
    if not name or not password:
        return _signin_page(request, error=t.gettext(WRONG), status=400)
    address = client_address(request)
    gate = await state.console.signin_gate.reserve(name, address)
    if gate != "go":
        await _audit_failure(request, name, "signin_locked" if gate == "locked" else "signin_slow")
        return _signin_page(request, error=t.gettext(_GATE[gate]), status=429)
    found = await state.console.operators.check(name, password)
    refused = _refused(request, found, password)
    if found is None or refused is not None:
        await _audit_failure(request, name, refused or "signin_failed")
        return _signin_page(request, error=t.gettext(WRONG), status=401)
    if found.role == "supervisor":
        if found.totp_unreadable:  # never offer a new enrolment to whoever has the password
            await _audit_failure(request, name, "signin_totp_unreadable")
            return _signin_page(request, error=t.gettext(TOTP_UNREADABLE), status=401)
        # the password counts as a try of the (name, address) gate until the code passes
        return await _second_factor(request, found)
    await state.console.signin_gate.succeeded(name, address)
    return await _open_session(request, found)


def _refused(request: Request, found: StoredOperator | None, password: str) -> str | None:
    """Why a right password still does not sign in (an audit action), else None."""
    if found is None:
        return None
    if not found.enabled:
        return "signin_disabled"
    production = _secure(request)
    if production and same_secret(password, DEMO_PASSWORDS.get(found.name, "\0")):
        return "signin_demo_refused"
    return None


async def _open_session(request: Request, found: StoredOperator) -> Response:
    """A new session (never one the browser brought), its cookie, the lookup page."""
    state = runtime(request)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await state.console.sessions.end(old)
    sid, _ = await state.console.sessions.create(found.name, found.role)
    await state.console.audit.write(found.name, "signin", detail=f"from {client_address(request)}")
    response = RedirectResponse("/console/lookup", status_code=303)
    set_session(request, response, sid)
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/console")
    response.delete_cookie(PENDING_COOKIE, path="/console")
    return response


# --- supervisors' second factor -----------------------------------------------------------


def _enrolled_secret(request: Request, found: StoredOperator) -> str | None:
    """The supervisor's TOTP secret, or None when they must enrol (production never accepts
    the demo's secret: such a supervisor enrols a new one)."""
    if found.totp_secret is None:
        return None
    if _secure(request) and found.totp_secret == DEMO_TOTP_SECRET:
        return None
    return found.totp_secret


async def _second_factor(request: Request, found: StoredOperator) -> Response:
    state = runtime(request)
    secret = _enrolled_secret(request, found)
    doc: dict[str, Any] = {
        "name": found.name,
        "csrf": secrets.token_urlsafe(24),
        "enrol": pyotp.random_base32() if secret is None else None,
    }
    token = await state.console.sessions.hold(doc, PENDING_S)
    response = RedirectResponse("/console/signin/totp", status_code=303)
    response.set_cookie(
        PENDING_COOKIE,
        token,
        max_age=PENDING_S,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    response.delete_cookie(SIGNIN_CSRF_COOKIE, path="/console")
    return response


def _qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG, drawn here (no script, no image service)."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#1d2430")
    return Markup(svg)  # noqa: S704 - segno's own markup, from a URI we made


def _totp_page(
    request: Request, doc: dict[str, Any], *, error: str | None = None, status: int = 200
) -> Response:
    secret = doc.get("enrol")
    context: dict[str, Any] = {"csrf": doc["csrf"], "error": error, "enrol": bool(secret)}
    if secret:
        uri = pyotp.TOTP(secret).provisioning_uri(name=doc["name"], issuer_name=TOTP_ISSUER)
        context.update(qr=_qr_svg(uri), secret=secret)
    return page(request, "totp.html", status_code=status, **context)


async def _pending(request: Request) -> tuple[str, dict[str, Any]] | None:
    token = request.cookies.get(PENDING_COOKIE, "")
    doc = await runtime(request).console.sessions.held(token) if token else None
    return (token, doc) if doc is not None else None


@router.get("/signin/totp", response_class=HTMLResponse)
async def totp_form(request: Request) -> Response:
    pending = await _pending(request)
    if pending is None:
        return RedirectResponse("/console/signin", status_code=303)
    return _totp_page(request, pending[1])


def _matching_step(secret: str, code: str, now: float) -> int | None:
    """The time step whose code is `code` (this one, or its neighbours for a clock a little
    off), or None."""
    totp = pyotp.TOTP(secret)
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == totp.digits):
        return None
    for offset in (0, -1, 1):
        at = now + offset * totp.interval
        if same_secret(totp.at(at), code):
            return int(at // totp.interval)
    return None


@router.post("/signin/totp", response_class=HTMLResponse)
async def totp_check(request: Request) -> Response:
    pending = await _pending(request)
    if pending is None:
        return RedirectResponse("/console/signin", status_code=303)
    token, doc = pending
    form = await form_of(request)
    check_form(request, form, None, expected=doc["csrf"])
    t, state = t_of(request), runtime(request)
    name, address = str(doc["name"]), client_address(request)
    gate = await state.console.signin_gate.reserve(name, address)
    if gate != "go":
        await _audit_failure(request, name, "signin_locked")
        await state.console.sessions.release(token)
        return _signin_page(request, error=t.gettext(_GATE[gate]), status=429)
    if not await state.console.totp_checks.reserve(name):  # counted until the code passes
        await _audit_failure(request, name, "signin_totp_locked")
        await state.console.sessions.release(token)
        return _signin_page(request, error=t.gettext(LOCKED), status=429)
    found = await state.console.operators.state(name)
    secret = doc.get("enrol") or (_enrolled_secret(request, found) if found else None)
    step = _matching_step(secret, form.get("code", "")[:16], time.time()) if secret else None
    if found is None or not found.enabled or step is None:
        await _audit_failure(request, name, "signin_totp_failed")
        return _totp_page(request, doc, error=t.gettext(WRONG_CODE), status=401)
    if not await state.console.sessions.first_use(name, step):
        await _audit_failure(request, name, "signin_totp_reused")
        return _totp_page(request, doc, error=t.gettext(WRONG_CODE), status=401)
    await state.console.signin_gate.succeeded(name, address)
    await state.console.totp_checks.succeeded(name)
    await state.console.sessions.release(token)
    if doc.get("enrol"):
        await _enrol(request, name, str(doc["enrol"]))
    return await _open_session(request, found)


async def _enrol(request: Request, name: str, secret: str) -> None:
    state = runtime(request)
    await anyio.to_thread.run_sync(state.console.operators.set_totp, name, secret)
    await state.console.audit.write(name, "totp_enrolled")


@router.post("/signout")
async def signout(request: Request) -> Response:
    operator, _ = await read_session(request)
    form = await form_of(request)
    if operator is not None:
        check_form(request, form, operator)
        await runtime(request).console.sessions.end(request.cookies[SESSION_COOKIE])
        await runtime(request).console.audit.write(operator.name, "signout")
    response = RedirectResponse("/console/signin", status_code=303)
    clear_session(response)
    return response

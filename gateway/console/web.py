"""What every console page shares: templates, language, the server-side session, CSRF.

A session lives in Redis (`gateway.state.console.sessions`); the cookie holds only its opaque id
(HttpOnly, SameSite=Strict, Secure in production), a new one at every sign-in. It ends at
sign-out, after `GATEWAY_CONSOLE_IDLE_TIMEOUT_S` idle seconds, and at once when the operator
is disabled or their password changes (the operator's row is read on every request). Every
form carries the session's CSRF token (the sign-in form, a token of its own cookie), and a
POST whose `Origin` names another site is refused.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from gateway.channels.common import same_secret
from gateway.console.display import FILTERS
from gateway.deps import runtime
from gateway.i18n import LANGS, N_, Translator, translator
from gateway.settings import Env, Settings
from gateway.state.console.sessions import SessionData

__all__ = [
    "ConsoleDenied",
    "Operator",
    "page",
    "require_operator",
]

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "console_session"
SIGNIN_CSRF_COOKIE = "console_signin_csrf"
PENDING_COOKIE = "console_pending"
LANG_COOKIE = "console_lang"
ROLES = ("agent", "supervisor")
# What a session id looks like (`secrets.token_urlsafe(32)`): anything else is no session.
_SID = re.compile(r"^[A-Za-z0-9_-]{43}$")

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(FILTERS)  # statuses, channels, numbers and times as agents read them


@dataclass(frozen=True, slots=True)
class Operator:
    name: str
    role: str
    csrf: str
    session: SessionData | None = None  # None only for pages shown without a session

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


class ConsoleDenied(Exception):
    """A page the request may not see: `status` 401 (sign in), 403 (role, CSRF)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason  # a msgid


def _settings(request: Request) -> Settings:
    settings: Settings = runtime(request).settings
    return settings


def client_address(request: Request) -> str:
    """The client's address: the socket's peer, which uvicorn replaces with X-Forwarded-For's
    only when the peer is a trusted proxy (`forwarded_allow_ips`); never the header itself."""
    return request.client.host if request.client is not None else "unknown"


def lang_of(request: Request) -> str:
    """`?lang=` first, then the cookie, then the browser's preference, else Arabic."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGS:
            return value
    accept = request.headers.get("accept-language", "").lower()
    return "fr" if accept.startswith("fr") else "ar"


def t_of(request: Request) -> Translator:
    return translator(lang_of(request))


async def read_session(request: Request) -> tuple[Operator | None, bool]:
    """The signed-in operator, if any; and whether a session cookie was there but its session
    is over (idle, too old, signed out elsewhere, the operator disabled)."""
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None, False
    if not _SID.match(sid):
        return None, False
    state = runtime(request)
    data = await state.console.sessions.get(sid)
    if data is None or data.role not in ROLES:
        return None, True
    stored = await state.console.operators.state(data.name)
    if stored is None or not stored.session_valid(data.created):
        await state.console.sessions.end(sid)
        return None, True
    return Operator(stored.name, stored.role, data.csrf, data), False


async def require_operator(request: Request) -> Operator:
    """The signed-in operator (kept on `request.state` for the page's header)."""
    operator, expired = await read_session(request)
    if operator is None:
        raise ConsoleDenied(401, "expired" if expired else "signin")
    request.state.console_operator = operator
    return operator


async def require_supervisor(request: Request) -> Operator:
    operator = await require_operator(request)
    if not operator.supervisor:
        raise ConsoleDenied(403, N_("This action is for supervisors."))
    return operator


def check_form(
    request: Request,
    form: dict[str, str],
    operator: Operator | None,
    *,
    expected: str | None = None,
) -> None:
    """403 unless the form's CSRF token is the session's (or `expected`, else the sign-in
    cookie's) and the request does not come from another site."""
    origin = request.headers.get("origin")
    if origin and origin not in (_settings(request).public_url, _own_origin(request)):
        raise ConsoleDenied(403, N_("This form was sent from another site."))
    if expected is None:
        expected = operator.csrf if operator else request.cookies.get(SIGNIN_CSRF_COOKIE)
    if not expected or not same_secret(form.get("csrf", ""), expected):
        raise ConsoleDenied(403, N_("This form has expired or was not sent from the console."))


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def set_session(request: Request, response: Response, sid: str) -> None:
    settings = _settings(request)
    response.set_cookie(
        SESSION_COOKIE,
        sid,
        max_age=settings.console_session_max_s,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=settings.env is Env.PRODUCTION,
    )


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console")


def _markup_gettext(t: Translator) -> Callable[..., Markup]:
    """`_()` for templates: the translated text escaped, then its values put in, each escaped
    unless it is already markup (a figure a filter isolated left to right stays a `<bdi>`)."""

    def gettext(message: str, **values: object) -> Markup:
        text = escape(t.gettext(message))
        return text % values if values else text

    return gettext


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the request's language."""
    lang = lang_of(request)
    t = translator(lang)
    operator: Operator | None = getattr(request.state, "console_operator", None)
    context.setdefault("csrf", operator.csrf if operator else "")
    context.setdefault("simulator_shown", _settings(request).env is not Env.PRODUCTION)
    html = _env.get_template(template).render(
        _=_markup_gettext(t),
        lang=lang,
        dir="rtl" if lang == "ar" else "ltr",
        other_lang="fr" if lang == "ar" else "ar",
        operator=operator,
        path=request.url.path,
        # Each rendering's own mark on <html data-page>: a browser test waits for a new one
        # after a click rather than for the old page's nodes to go stale.
        page_id=secrets.token_hex(6),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, path="/console", samesite="strict")
    return response


def denied(request: Request, exc: ConsoleDenied) -> Response:
    """401: to the sign-in page (saying why); 403: a page that says why, never data."""
    if exc.status == 401:
        target = "/console/signin" + ("?expired=1" if exc.reason == "expired" else "")
        response = RedirectResponse(target, status_code=303)
        if exc.reason == "expired":
            clear_session(response)
        return response
    t = t_of(request)
    return page(request, "message.html", status_code=exc.status, message=t.gettext(exc.reason))


async def form_of(request: Request) -> dict[str, str]:
    """The posted form as strings (files ignored), each value cut at 4,000 characters."""
    form = await request.form()
    return {k: v[:4000] for k, v in form.items() if isinstance(v, str)}


OperatorDep = Annotated[Operator, Depends(require_operator)]
SupervisorDep = Annotated[Operator, Depends(require_supervisor)]

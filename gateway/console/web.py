"""What every console page shares: templates, language, the signed session cookie, CSRF.

The session is a cookie signed with a key derived from `GATEWAY_IDENTITY_KEY` (itsdangerous):
`{"n": operator, "r": role, "c": csrf token, "t": last seen}`. It is HttpOnly,
SameSite=Strict, Secure in production, and ends after `GATEWAY_CONSOLE_IDLE_TIMEOUT_S` idle
seconds; each page renews it. Every form carries the session's CSRF token (the sign-in form, a
token of its own cookie), and a POST whose `Origin` names another site is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.channels.common import same_secret
from gateway.console.display import FILTERS
from gateway.dialogs.texts import N_
from gateway.i18n import LANGS, Translator, translator
from gateway.settings import Env, Settings

__all__ = [
    "ConsoleDenied",
    "Operator",
    "page",
    "require_operator",
]

TEMPLATES = Path(__file__).parent / "templates"
SESSION_COOKIE = "console_session"
SIGNIN_CSRF_COOKIE = "console_signin_csrf"
LANG_COOKIE = "console_lang"
ROLES = ("agent", "supervisor")

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
    settings: Settings = request.app.state.settings
    return settings


def _serializer(settings: Settings) -> URLSafeSerializer:
    key = hmac.new(
        settings.identity_key.get_secret_value().encode(), b"console-session", hashlib.sha256
    ).hexdigest()
    return URLSafeSerializer(key, salt="console-session")


def lang_of(request: Request) -> str:
    """`?lang=` first, then the cookie, then the browser's preference, else Arabic."""
    for value in (request.query_params.get("lang"), request.cookies.get(LANG_COOKIE)):
        if value in LANGS:
            return value
    accept = request.headers.get("accept-language", "").lower()
    return "fr" if accept.startswith("fr") else "ar"


def t_of(request: Request) -> Translator:
    return translator(lang_of(request))


def read_session(request: Request) -> tuple[Operator | None, bool]:
    """The signed-in operator, if any; and whether a session existed but ran idle too long."""
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None, False
    settings = _settings(request)
    try:
        data = _serializer(settings).loads(raw)
    except BadSignature:
        return None, False
    if not isinstance(data, dict) or data.get("r") not in ROLES:
        return None, False
    if time.time() - float(data.get("t", 0)) > settings.console_idle_timeout_s:
        return None, True
    return Operator(str(data["n"]), str(data["r"]), str(data["c"])), False


def require_operator(request: Request) -> Operator:
    """The signed-in operator (kept on `request.state` so pages renew the cookie)."""
    operator, expired = read_session(request)
    if operator is None:
        raise ConsoleDenied(401, "expired" if expired else "signin")
    request.state.console_operator = operator
    return operator


def require_supervisor(request: Request) -> Operator:
    operator = require_operator(request)
    if not operator.supervisor:
        raise ConsoleDenied(403, N_("This action is for supervisors."))
    return operator


def check_form(request: Request, form: dict[str, str], operator: Operator | None) -> None:
    """403 unless the form's CSRF token is the session's (or the sign-in cookie's) and the
    request does not come from another site."""
    origin = request.headers.get("origin")
    if origin and origin not in (_settings(request).public_url, _own_origin(request)):
        raise ConsoleDenied(403, N_("This form was sent from another site."))
    expected = operator.csrf if operator else request.cookies.get(SIGNIN_CSRF_COOKIE)
    if not expected or not same_secret(form.get("csrf", ""), expected):
        raise ConsoleDenied(403, N_("This form has expired or was not sent from the console."))


def _own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def set_session(request: Request, response: Response, operator: Operator) -> None:
    settings = _settings(request)
    value = _serializer(settings).dumps(
        {"n": operator.name, "r": operator.role, "c": operator.csrf, "t": int(time.time())}
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.console_idle_timeout_s,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=settings.env is Env.PRODUCTION,
    )


def new_operator_session(name: str, role: str) -> Operator:
    return Operator(name, role, secrets.token_urlsafe(24))


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/console")


def page(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """A page in the request's language; a signed-in operator's cookie is renewed."""
    lang = lang_of(request)
    t = translator(lang)
    operator: Operator | None = getattr(request.state, "console_operator", None)
    context.setdefault("csrf", operator.csrf if operator else "")
    html = _env.get_template(template).render(
        _=t.gettext,
        lang=lang,
        dir="rtl" if lang == "ar" else "ltr",
        other_lang="fr" if lang == "ar" else "ar",
        operator=operator,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, path="/console", samesite="strict")
    if operator is not None:
        set_session(request, response, operator)
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

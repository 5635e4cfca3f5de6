"""Operator endpoints, behind `Authorization: Bearer <token>`, one token per client.

`GET /admin/messages?to=ADDRESS` lists one address's outbound messages, newest first: what
the simulator (`python -m gateway simulate`) and tests read. Each option carries its `id`,
its `label` and the `key` a keypad user types for it. ADDRESS is a phone in any usual form
(read as E.164) or `telegram:<chat_id>`. Bodies older than
`GATEWAY_MESSAGE_BODY_RETENTION_H` read as `null`.

Need-to-know (issue #21): the route is off in production unless `GATEWAY_ADMIN_MESSAGES` is
on (404 otherwise), and its texts (and options) read as `null` unless
`GATEWAY_ADMIN_MESSAGES_TEXTS` is on (both on by default outside production only). Each
client has its own named token (`GATEWAY_ADMIN_TOKENS=name:token,…`); outside production
`GATEWAY_ADMIN_TOKEN` is accepted too, as the client `admin`. Every call is a line of the
console's audit, naming the client's token, the address masked and how many messages.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from gateway.channels.common import same_secret
from gateway.deps import runtime
from gateway.phones import to_e164
from gateway.settings import Env, Settings
from gateway.state.errors import StoreUnavailable

__all__ = ["client_tokens", "router"]

_TELEGRAM = re.compile(r"^telegram:-?\d{1,20}$")
MAX_ITEMS = 200


def client_tokens(settings: Settings) -> dict[str, str]:
    """Each client's name and token."""
    tokens = {name: t.get_secret_value() for name, t in settings.admin_tokens.items()}
    if settings.env is not Env.PRODUCTION:
        tokens.setdefault("admin", settings.admin_token.get_secret_value())
    return tokens


def _enabled(settings: Settings, value: bool | None) -> bool:
    return value if value is not None else settings.env is not Env.PRODUCTION


def require_admin(request: Request) -> str:
    """The calling client's name: 404 when the route is off, 401 without a bearer token, 403
    with a wrong one (each token compared in constant time)."""
    settings: Settings = runtime(request).settings
    if not _enabled(settings, settings.admin_messages):
        raise HTTPException(404, "Not Found")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    found = None
    for name, expected in client_tokens(settings).items():
        if same_secret(token.strip(), expected) and expected:
            found = name  # no early exit: every token is compared
    if found is None:
        raise HTTPException(403, "wrong token")
    return found


router = APIRouter(prefix="/admin", tags=["admin"])


def address(to: str) -> str:
    """E.164 or `telegram:<id>`; 400 otherwise."""
    text = to.strip()
    if _TELEGRAM.match(text):
        return text
    phone = to_e164(text)
    if phone is None:
        raise HTTPException(400, "to must be a phone number or telegram:<chat_id>")
    return phone


@router.get(
    "/messages",
    summary="One address's outbound messages, newest first",
    responses={
        400: {"description": "Not an address"},
        401: {"description": "No bearer token"},
        403: {"description": "Wrong token"},
        404: {"description": "Off (production, unless GATEWAY_ADMIN_MESSAGES)"},
        503: {"description": "The message records cannot be read now"},
    },
)
async def messages(
    request: Request,
    client: Annotated[str, Depends(require_admin)],
    to: Annotated[str, Query(description="E.164 phone or telegram:<chat_id>", max_length=64)],
    limit: Annotated[int, Query(ge=1, le=MAX_ITEMS)] = 50,
) -> dict[str, list[dict[str, Any]]]:
    settings: Settings = runtime(request).settings
    target = address(to)
    try:
        items = await runtime(request).records.for_address(target, limit=limit)
    except StoreUnavailable:
        raise HTTPException(503, "message records unavailable") from None
    texts = _enabled(settings, settings.admin_messages_texts)
    for item in items:
        item.pop("student", None)
        if not texts:
            item["text"], item["options"] = None, []
    await runtime(request).console.audit.write(
        f"token:{client}",
        "admin_messages",
        phone=target,
        detail=f"{len(items)} messages" + ("" if texts else ", no text"),
    )
    return {"items": items}

"""Operator endpoints, behind `Authorization: Bearer <GATEWAY_ADMIN_TOKEN>`.

`GET /admin/messages?to=ADDRESS` lists one address's outbound messages, newest first: what
the hotline's operators and the simulator read. Each option carries its `id`, its `label` and
the `key` a keypad user types for it. ADDRESS is a phone in any usual form (read as
E.164) or `telegram:<chat_id>`. Bodies older than `GATEWAY_MESSAGE_BODY_RETENTION_H` read as
`null`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.exc import SQLAlchemyError

from gateway.channels.common import same_secret
from gateway.phones import to_e164
from gateway.settings import Settings

__all__ = ["router"]

_TELEGRAM = re.compile(r"^telegram:-?\d{1,20}$")
MAX_ITEMS = 200


def require_admin(request: Request) -> None:
    """401 without a bearer token, 403 with a wrong one (constant-time comparison)."""
    settings: Settings = request.app.state.settings
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "bearer token required", headers={"WWW-Authenticate": "Bearer"})
    if not same_secret(token.strip(), settings.admin_token.get_secret_value()):
        raise HTTPException(403, "wrong token")


router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin)])


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
        503: {"description": "The message records cannot be read now"},
    },
)
async def messages(
    request: Request,
    to: Annotated[str, Query(description="E.164 phone or telegram:<chat_id>", max_length=64)],
    limit: Annotated[int, Query(ge=1, le=MAX_ITEMS)] = 50,
) -> dict[str, list[dict[str, Any]]]:
    try:
        items = await request.app.state.records.for_address(address(to), limit=limit)
    except SQLAlchemyError:
        raise HTTPException(503, "message records unavailable") from None
    return {"items": items}

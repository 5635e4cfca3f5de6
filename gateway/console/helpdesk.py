"""The helpdesk queue: a text message the gateway could not understand lands here; an agent
takes it, reads the conversation so far, opens the guardian's lookup (where a child's data
needs the usual check) and answers; the answer leaves through the outbox on the parent's
channel, in the parent's language. An item nobody answered within GATEWAY_HELPDESK_EXPIRY_S
is closed with a polite message pointing to the hotline.

The queue itself, in Redis, is `gateway.state.helpdesk`; these are its pages.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from gateway.console.lookup import render_lookup
from gateway.console.web import OperatorDep, check_form, form_of, page, t_of
from gateway.deps import runtime
from gateway.state.errors import StoreUnavailable
from gateway.state.helpdesk import HelpdeskQueue, Item

__all__ = ["router"]

router = APIRouter(prefix="/console/helpdesk", include_in_schema=False)
MAX_ANSWER_CHARS = 600


def _queue(request: Request) -> HelpdeskQueue:
    queue: HelpdeskQueue = runtime(request).helpdesk
    return queue


@router.get("", response_class=HTMLResponse)
async def queue_page(request: Request, operator: OperatorDep) -> Response:
    try:
        items = await _queue(request).open_items()
    except StoreUnavailable:
        return page(request, "helpdesk.html", items=[], error=_unavailable(request))
    return page(request, "helpdesk.html", items=items)


def _unavailable(request: Request) -> str:
    return t_of(request).gettext("The queue cannot be read now: try again in a moment.")


@router.get("/{item_id}", response_class=HTMLResponse)
async def item_page(request: Request, item_id: str, operator: OperatorDep) -> Response:
    item = await _queue(request).get(item_id[:64])
    if item is None:
        return _gone(request)
    return page(request, "helpdesk_item.html", item=item)


@router.get("/{item_id}/lookup", response_class=HTMLResponse)
async def item_lookup(request: Request, item_id: str, operator: OperatorDep) -> Response:
    """The lookup of an open item's number: linked by the item's id, never by the number."""
    item = await _queue(request).get(item_id[:64])
    if item is None or item.closed:
        return _gone(request)
    return await render_lookup(request, operator, item.phone)


def _closed(request: Request, item: Item) -> Response:
    message = t_of(request).gettext("This message is closed: it can no longer be answered.")
    return page(request, "message.html", status_code=409, message=message)


def _gone(request: Request) -> Response:
    message = t_of(request).gettext("This message was answered or has expired.")
    return page(request, "message.html", status_code=404, message=message)


async def _posted(
    request: Request, item_id: str, operator: OperatorDep
) -> tuple[dict[str, str], HelpdeskQueue, Item | None]:
    """The posted form (CSRF checked), the queue, and the item if it is still open."""
    form = await form_of(request)
    check_form(request, form, operator)
    queue = _queue(request)
    return form, queue, await queue.get(item_id[:64])


@router.post("/{item_id}/take")
async def take(request: Request, item_id: str, operator: OperatorDep) -> Response:
    _, queue, item = await _posted(request, item_id, operator)
    if item is None or await queue.take(item, operator.name) is None:
        return _gone(request)
    await runtime(request).console.audit.write(operator.name, "helpdesk_take", phone=item.phone)
    return RedirectResponse(f"/console/helpdesk/{item.id}", status_code=303)


@router.post("/{item_id}/answer")
async def answer(request: Request, item_id: str, operator: OperatorDep) -> Response:
    form, queue, item = await _posted(request, item_id, operator)
    if item is None:
        return _gone(request)
    text = " ".join(form.get("text", "").split())[:MAX_ANSWER_CHARS]
    if not text and not item.closed:
        error = t_of(request).gettext("Type an answer first.")
        return page(request, "helpdesk_item.html", status_code=400, item=item, error=error)
    phone = item.phone
    if not await queue.answer(item, operator.name, text):
        return _closed(request, item)
    await runtime(request).console.audit.write(
        operator.name, "helpdesk_answer", phone=phone, detail=f"{len(text)} characters"
    )
    return RedirectResponse("/console/helpdesk", status_code=303)

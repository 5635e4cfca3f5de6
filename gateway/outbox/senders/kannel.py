"""Kannel's `sendsms`, outbound: one SMS per `send`, to operators' SMSCs (CHANNELS.md §14.3-4).

The POST form of `sendsms`: the text is the body, in UTF-8, and everything else travels in
`X-Kannel-*` headers, so neither the password nor the text ever sits in a URL (proxies and
Kannel's own access lines log URLs):

```
POST http://127.0.0.1:13013/cgi-bin/sendsms
Content-Type: text/plain; charset=UTF-8
X-Kannel-Username: massar            X-Kannel-Password: …
X-Kannel-From: 2020                  X-Kannel-To: +212600000001
X-Kannel-Coding: 2                   X-Kannel-SMSC: IAM
X-Kannel-DLR-Mask: 31
X-Kannel-DLR-URL: https://gw…/channels/sms/kannel/dlr?token=…&msg=<our id>&status=%d&smsc=%i

غياب ابنكم يوسف: يومان

202 "0: Accepted for delivery" | 202 "3: Queued for later delivery"   -> Receipt
503 "Temporal failure, try again later." (queue full, shutting down)  -> retried
400 / 403 / 404 (bad number, coding, credentials, not routable)        -> failed, never retried
```

`Coding: 2` (UCS-2) whenever one character is outside GSM-7 (Arabic always), else 0; Kannel
splits long texts into concatenated parts (`concatenation = true` on the sendsms-user) up to
its `max-messages` and drops the rest without a word, so a text needing more parts than
`max_parts` is refused here instead. Kannel returns no message id: the delivery report names
ours (`msg=`). Where a message leaves from: its own `sender_id`/`route` (a reply, from the
short code and link its SMS came in on), else the longest matching prefix route, else the
defaults. Nothing here logs a phone number, a text or a credential.
Docs: Kannel 1.4.5 User's Guide, "Sending SMS messages" and "Delivery reports".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import urlencode

import httpx
import structlog

from gateway.failures import part_down
from gateway.outbox.model import OutMessage, Receipt, SendError
from gateway.outbox.senders.base import require, sms_text, transport_error
from gateway.settings import KannelRoute
from gateway.text import is_gsm7, segments

__all__ = ["TIMEOUT", "KannelSender", "classify"]

log = structlog.get_logger("gateway.outbox.kannel")

TIMEOUT: Final = httpx.Timeout(connect=2.0, read=10.0, write=5.0, pool=5.0)
"""Per send. smsbox answers once bearerbox has queued the message: milliseconds on loopback."""

# Kannel's refusals, by a phrase of its fixed answers (gw/smsbox.c), as short codes; its
# answers never name the number, but only these codes are kept.
_REFUSALS: Final = (
    ("authorization failed", "kannel:auth"),
    ("not routable", "kannel:not_routable"),
    ("denied by white- and/or black-lists", "kannel:denied"),
    ("missing receiver", "kannel:no_receiver"),
    ("sender missing", "kannel:no_sender"),
    ("coding field misformed", "kannel:coding"),
    ("charset or body misformed", "kannel:charset"),
    ("dlr-url field misformed", "kannel:dlr_url"),
    ("dlr-mask field misformed", "kannel:dlr_mask"),
)


class KannelSender:
    """Sends SMS through Kannel's `sendsms`; a `Sender` (gateway/outbox/senders/base.py).

    `dlr_url` is the gateway's `/channels/sms/kannel/dlr` as Kannel reaches it, with the
    callback token; each message adds `msg=<its id>&status=%d`. `http` belongs to the
    caller, who closes it.
    """

    name = "kannel"

    def __init__(
        self,
        *,
        url: str,
        username: str,
        password: str,
        sender: str,
        dlr_url: str,
        http: httpx.AsyncClient,
        smsc: str | None = None,
        routes: Sequence[KannelRoute] = (),
        dlr_mask: int = 31,
        max_parts: int = 6,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        require(url=url, username=username, password=password, sender=sender, dlr_url=dlr_url)
        self._url = url
        self._credentials = {"X-Kannel-Username": username, "X-Kannel-Password": password}
        self._sender = sender
        self._smsc = smsc
        # Longest prefix first: "+212661" wins over "+21266".
        self._routes = sorted(routes, key=lambda route: len(route.prefix), reverse=True)
        self._dlr_url = dlr_url
        self._dlr_mask = dlr_mask
        self._max_parts = max_parts
        self._http = http
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"KannelSender(url={self._url!r})"  # never the password

    def route_of(self, msg: OutMessage) -> tuple[str, str | None]:
        """(sender address, smsc-id or None) the message leaves through."""
        sender, smsc = self._sender, self._smsc
        for route in self._routes:
            if msg.to.startswith(route.prefix):
                sender, smsc = route.sender or self._sender, route.smsc
                break
        return msg.sender_id or sender, msg.route or smsc

    def link_of(self, msg: OutMessage) -> str | None:
        """The operator link (smsc-id) `msg` leaves through; None: Kannel's own choice."""
        return self.route_of(msg)[1]

    @staticmethod
    def parts_of(msg: OutMessage) -> int:
        """The SMS parts `msg` takes (each is one submit_sm on the operator's link)."""
        return max(1, segments(sms_text(msg)).segments)

    def request_of(self, msg: OutMessage) -> httpx.Request:
        """The `sendsms` request for `msg` (raises `SendError` for a text Kannel would cut)."""
        text = sms_text(msg)
        parts = segments(text).segments
        if parts == 0:
            raise SendError("empty", retryable=False)
        if parts > self._max_parts:
            raise SendError("too_long", retryable=False)
        sender, smsc = self.route_of(msg)
        separator = "&" if "?" in self._dlr_url else "?"
        # `%d` and `%i` are left for Kannel to fill in: the report's status and the operator
        # link (smsc-id) it came from (the delivery-report metrics count per link).
        dlr_url = f"{self._dlr_url}{separator}{urlencode({'msg': msg.id})}&status=%d&smsc=%i"
        headers = {
            "Content-Type": "text/plain; charset=UTF-8",
            **self._credentials,
            "X-Kannel-From": sender,
            # A header, not a query: a `+` there is never read as a space (CHANNELS.md §14.7).
            "X-Kannel-To": msg.to,
            "X-Kannel-Coding": "0" if is_gsm7(text) else "2",
            "X-Kannel-DLR-Mask": str(self._dlr_mask),
            "X-Kannel-DLR-URL": dlr_url,
        }
        if smsc is not None:
            headers["X-Kannel-SMSC"] = smsc
        return self._http.build_request(
            "POST",
            self._url,
            content=text.encode("utf-8"),
            headers=headers,
            timeout=self._timeout,
        )

    async def send(self, msg: OutMessage) -> Receipt:
        try:
            request = self.request_of(msg)
        except SendError as error:
            raise self._failed(msg, error) from None
        try:
            response = await self._http.send(request)
        except httpx.TransportError as exc:
            part_down("kannel", "sendsms", exc)  # no answer at all: the box, not the message
            raise self._failed(msg, transport_error(exc)) from exc
        if response.status_code in (200, 202):
            queued = response.text.startswith("3:")  # the operator link is down: stored
            log.debug("kannel_sms_accepted", outbox_id=msg.id, queued=queued)
            return Receipt(provider_id=f"kannel:{msg.id}")
        raise self._failed(
            msg, classify(response.status_code, response.text), status=response.status_code
        )

    async def aclose(self) -> None:
        """Nothing to release: `http` is the caller's."""

    def _failed(self, msg: OutMessage, error: SendError, *, status: int | None = None) -> SendError:
        log.warning(
            "kannel_sms_failed",
            outbox_id=msg.id,
            code=error.code,
            http_status=status,
            retryable=error.retryable,
        )
        return error


def classify(status: int, body: str) -> SendError:
    """The `SendError` of a non-2xx answer from smsbox.

    503 (bearerbox's queue is full or it is shutting down), any other 5xx and 429 are
    retried; a 4xx is permanent: `kannel:<reason>` when the answer is one of Kannel's known
    refusals, else `http:<status>`.
    """
    if status == 429 or status >= 500:
        return SendError(f"http:{status}", retryable=True)
    lowered = body.casefold()
    for phrase, code in _REFUSALS:
        if phrase in lowered:
            return SendError(code, retryable=False)
    return SendError(f"http:{status}", retryable=False)

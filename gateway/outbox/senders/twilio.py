"""Twilio Programmable Messaging, outbound: one SMS per `send` (CHANNELS.md §1, §7, §9, §10).

```
POST https://api.twilio.com/2010-04-01/Accounts/AC…/Messages.json    (basic auth SID:token)
To=+212600000001&From=MASSAR&Body=…&StatusCallback=https://…/channels/sms/twilio/status
201 {"sid": "SM…", "status": "queued", …}                  -> Receipt(provider_id="SM…")
400 {"code": 21211, "message": "…", "more_info": "…", "status": 400} -> SendError("twilio:21211")
```
The twilio SDK's own `Client` builds the request (`messages.create_async`): URL, basic auth,
headers and form fields are the SDK's. It goes out through `TwilioHttpxClient`, our
implementation of the SDK's async HTTP client interface over the app's `httpx.AsyncClient`, in
place of the SDK's aiohttp client, so every call has an explicit `httpx.Timeout` and tests
give it an `httpx.MockTransport`. The sender never retries: it classifies (`classify`), and
the outbox retries what is retryable. Nothing here logs a phone number or a message text.
Docs: https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource,
https://www.twilio.com/docs/usage/twilios-response, https://www.twilio.com/docs/api/errors
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Final

import httpx
import structlog
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http import AsyncHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from gateway.outbox.model import OutMessage, Receipt, SendError
from gateway.outbox.senders.base import require, sms_text, transport_error

__all__ = ["TIMEOUT", "TwilioHttpxClient", "TwilioSmsSender", "classify", "retry_after_s"]

log = structlog.get_logger("gateway.outbox.twilio")

TIMEOUT: Final = httpx.Timeout(connect=3.0, read=10.0, write=5.0, pool=5.0)
"""Per send. Twilio answers a create in well under a second; a read timeout is the one case
where the message may exist without our knowing its sid (see `classify`)."""

# A Messaging Service SID; anything else is a `From`: an E.164 number or an alphanumeric
# sender ID (at most 11 characters, so it can never look like this).
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")
_MAX_SID = 64  # outbound_message.provider_id is String(64)
TWILIO_OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient": the number sent STOP

# The SDK reads TWILIO_EDGE and TWILIO_REGION (and credentials) from os.environ when it is
# given no mapping, or an empty one. Naming them empty keeps the gateway's settings the only
# configuration: requests always go to api.twilio.com, whatever the process environment holds.
_SDK_ENVIRONMENT: Final = {"TWILIO_EDGE": "", "TWILIO_REGION": ""}

# The SDK's HTTP client base wants a stdlib logger; ours never writes to it.
_sdk_logger = logging.getLogger("gateway.outbox.twilio.sdk")


class TwilioHttpxClient(AsyncHttpClient):  # type: ignore[misc]  # twilio ships no types
    """The SDK's async HTTP client interface over an `httpx.AsyncClient` (not aiohttp).

    Every request carries `timeout` (or the SDK's own per-call seconds, when it passes one).
    The last answer is kept in `response`: the SDK's exceptions keep a status and a Twilio
    code but drop the headers, and `Retry-After` is among them. So build one per send; the
    `httpx.AsyncClient` underneath is shared and is not closed here.
    """

    def __init__(self, http: httpx.AsyncClient, timeout: httpx.Timeout = TIMEOUT) -> None:
        super().__init__(_sdk_logger, is_async=True, timeout=None)
        self._http = http
        self._timeout = timeout
        self.response: httpx.Response | None = None

    async def request(
        self,
        method: str,
        url: str,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  # the SDK's interface names it
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)  # as the SDK's own clients do
        response = await self._http.request(
            method.upper(),
            url,
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=self._timeout if timeout is None else httpx.Timeout(timeout),
            follow_redirects=allow_redirects,
        )
        self.response = response
        return TwilioResponse(response.status_code, response.text, response.headers)


class TwilioSmsSender:
    """Sends SMS through Twilio's Messages API; a `Sender` (gateway/outbox/senders/base.py).

    `sender` is `settings.twilio_sms_from`: a Messaging Service SID (`MG` + 32 hex) goes out
    as `MessagingServiceSid`, anything else (an E.164 number, an alphanumeric sender ID) as
    `From`. `status_callback` is `settings.public_url` + `/channels/sms/twilio/status`, the
    route that records delivery states. `http` belongs to the caller, who closes it.
    """

    name = "twilio"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        sender: str,
        status_callback: str,
        http: httpx.AsyncClient,
        timeout: httpx.Timeout = TIMEOUT,
    ) -> None:
        require(
            account_sid=account_sid,
            auth_token=auth_token,
            sender=sender,
            status_callback=status_callback,
        )
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._sender: dict[str, str] = (
            {"messaging_service_sid": sender}
            if _SERVICE_SID.fullmatch(sender)
            else {"from_": sender}
        )
        self._status_callback = status_callback
        self._http = http
        self._timeout = timeout

    def __repr__(self) -> str:
        return f"TwilioSmsSender(account_sid={self._account_sid!r})"  # never the token

    async def send(self, msg: OutMessage) -> Receipt:
        return await self.create(msg, self.fields(msg))

    async def create(self, msg: OutMessage, fields: Mapping[str, str]) -> Receipt:
        """One Messages API create call for `msg` with its own `fields`."""
        # A client per send, so each send reads its own response's headers (TwilioHttpxClient);
        # building one is a few attribute assignments, no I/O.
        transport = TwilioHttpxClient(self._http, self._timeout)
        client = Client(
            self._account_sid,
            self._auth_token,
            http_client=transport,
            environment=_SDK_ENVIRONMENT,
        )
        try:
            created = await client.messages.create_async(
                status_callback=self._status_callback, **self._sender, **fields
            )
        except httpx.TransportError as exc:
            raise self._failed(msg, transport_error(exc)) from exc
        except (TwilioRestException, TwilioServiceException) as exc:
            headers = transport.response.headers if transport.response is not None else {}
            error = classify(exc.status, exc.code, headers)
            # Not chained: the SDK's message quotes Twilio's, which names the `To` number.
            raise self._failed(msg, error, status=exc.status) from None
        except (ValueError, TypeError, AttributeError):
            # The SDK could not read a 2xx body (not JSON, not an object).
            if transport.response is None or not transport.response.is_success:
                raise  # no answer was read: a bug on our side, not Twilio's
            raise self._bad_response(msg, transport.response.status_code) from None
        sid = getattr(created, "sid", None)
        if not isinstance(sid, str) or not sid or len(sid) > _MAX_SID:
            status = transport.response.status_code if transport.response is not None else None
            raise self._bad_response(msg, status)
        log.debug("twilio_sms_accepted", outbox_id=msg.id, twilio_status=created.status)
        return Receipt(provider_id=sid)

    def fields(self, msg: OutMessage) -> dict[str, str]:
        """The message's own fields of the create call (WhatsApp's sender adds its own)."""
        return {"to": msg.to, "body": sms_text(msg)}

    async def aclose(self) -> None:
        """Nothing to release: the SDK client is per send and `http` is the caller's."""

    def _failed(self, msg: OutMessage, error: SendError, *, status: int | None = None) -> SendError:
        log.warning(
            "twilio_sms_failed",
            outbox_id=msg.id,
            code=error.code,
            http_status=status,
            retryable=error.retryable,
        )
        return error

    def _bad_response(self, msg: OutMessage, status: int | None) -> SendError:
        # A 2xx that breaks the contract (no sid, not a JSON object). Permanent on purpose: a
        # 2xx from Twilio means the message was created and is most likely queued, so sending
        # it again would reach the parent twice, and without a sid no status callback can be
        # matched to it. A contract break does not heal on retry; each retry could add a copy.
        # (A 2xx from something else on the path, an intercepting proxy, means nothing went
        # out: a misconfiguration for an operator, hence the error-level line.) Timeouts stay
        # retryable: they are the usual transient failure, and with no idempotency key on
        # Twilio's Messages API the outbox takes a rare duplicate over a lost message.
        error = SendError("bad_response", retryable=False)
        log.error("twilio_sms_bad_response", outbox_id=msg.id, http_status=status)
        return error


def classify(status: int, code: object, headers: Mapping[str, str]) -> SendError:
    """The `SendError` of a non-2xx answer from Twilio.

    429 and 5xx are retried (Twilio: "Requests that receive 429 responses aren't processed and
    are safe to retry"), after `Retry-After` when Twilio gives one. Other answers are
    permanent: `twilio:<code>` when the body names a Twilio error code (21211 invalid To,
    21610 opted out, 21614 not a mobile, 21408 region not enabled, 20003 authentication…),
    else `http:<status>`. The SDK reports the HTTP status as the code when the body has none.
    """
    if status == 429 or status >= 500:
        return SendError(
            f"http:{status}",
            retryable=True,
            retry_after_s=retry_after_s(headers.get("Retry-After"), datetime.now(UTC)),
        )
    if isinstance(code, int) and not isinstance(code, bool) and code != status and code > 0:
        return SendError(f"twilio:{code}", retryable=False, opted_out=code == TWILIO_OPTED_OUT)
    return SendError(f"http:{status}", retryable=False)


def retry_after_s(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - now).total_seconds()
    return max(0.0, seconds) if math.isfinite(seconds) else None

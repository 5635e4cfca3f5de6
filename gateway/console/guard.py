"""The console's guard, an ASGI middleware around the whole app (issue #21):

- `/console` answers only the networks of `GATEWAY_CONSOLE_NETWORKS` (unset: any); the
  client's address is the socket's peer, as uvicorn sets it (X-Forwarded-For only from the
  proxies of `forwarded_allow_ips`);
- every response gets `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin`
  (`no-referrer` would make browsers send `Origin: null`, which the forms refuse),
  `X-Frame-Options: DENY`, and in production `Strict-Transport-Security`;
- every HTML page of the console gets a Content-Security-Policy with no script and no inline
  style at all (`default-src 'none'`: the pages have no script, and their one style sheet is
  the gateway's own file) and `frame-ancestors 'none'` (not `/docs`, whose page loads its
  script from a CDN); console pages and `/admin` answers, which hold personal data, get
  `Cache-Control: no-store`.
"""

from __future__ import annotations

from ipaddress import ip_address, ip_network

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.settings import Env, Settings

__all__ = ["CSP", "ConsoleGuard"]

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"
_COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]
_NO_STORE = (b"cache-control", b"no-store")


def in_networks(host: str, networks: tuple[str, ...]) -> bool:
    try:
        address = ip_address(host)
    except ValueError:
        return False
    return any(address in ip_network(n, strict=False) for n in networks)


class ConsoleGuard:
    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.networks = settings.console_networks
        self.production = settings.env is Env.PRODUCTION

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        console = path == "/console" or path.startswith("/console/")
        if console and self.networks:
            client = scope.get("client")
            if not in_networks(client[0] if client else "", self.networks):
                await _refuse(send)
                return
        production = self.production
        private = (console and not path.startswith("/console/static/")) or path.startswith("/admin")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if not (private and k.lower() == b"cache-control")
                ]
                headers += _COMMON
                if production:
                    headers.append((b"strict-transport-security", HSTS.encode()))
                if private:
                    headers.append(_NO_STORE)
                kind = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if console and kind.startswith(b"text/html"):
                    headers.append((b"content-security-policy", CSP.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _refuse(send: Send) -> None:
    body = b"The console does not answer this network."
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *_COMMON,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})

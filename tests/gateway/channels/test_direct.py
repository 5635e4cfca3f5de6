"""Webhooks answered from a table, inside the middlewares, past FastAPI's router
(gateway/channels/direct.py): which routes it holds, that it answers as the router would, and
that everything else still reaches the router."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from gateway.app import _webhook_routers, create_app
from gateway.channels.direct import DirectRoutes, direct_endpoints
from gateway.settings import Settings

EVERY_CHANNEL = (
    "ussd_africastalking,ussd_kannel,ussd_orange,sms_twilio,sms_kannel,voice_twilio,"
    "whatsapp_twilio,whatsapp_meta,telegram"
)


def table_of(app: FastAPI) -> dict[tuple[str, str], Callable[..., object]]:
    [middleware] = [m for m in app.user_middleware if m.cls is DirectRoutes]
    table: dict[tuple[str, str], Callable[..., object]] = middleware.kwargs["table"]
    return table


def test_every_webhook_with_an_exact_path_is_in_the_table() -> None:
    settings = Settings(channels=EVERY_CHANNEL)  # type: ignore[arg-type]
    table = table_of(create_app(settings))
    routes = [r for w in _webhook_routers(settings) for r in w.routes if isinstance(r, APIRoute)]
    exact = {(m, r.path) for r in routes if "{" not in r.path for m in r.methods}
    assert set(table) == exact
    assert ("POST", "/channels/ussd/africastalking") in table
    # The voice prompts' files have path parameters: the router serves them.
    assert any("{" in r.path for r in routes)


def test_the_console_and_admin_are_not_in_the_table() -> None:
    table = table_of(create_app(Settings(channels=EVERY_CHANNEL)))  # type: ignore[arg-type]
    assert all(path.startswith("/channels/") for _, path in table)


async def _only_request(request: Request) -> Response:
    return PlainTextResponse("direct")


def test_routes_the_framework_must_help_with_are_left_to_it() -> None:
    router = APIRouter(tags=["channels"])
    router.post("/a")(_only_request)

    @router.post("/b/{name}")
    async def with_path(name: str, request: Request) -> Response:
        return PlainTextResponse(name)

    @router.post("/c")
    async def with_query(request: Request, q: str = "") -> Response:
        return PlainTextResponse(q)

    @router.post("/d", dependencies=[Depends(lambda: None)])
    async def with_dependency(request: Request) -> Response:
        return PlainTextResponse("d")

    @router.post("/e")
    async def returns_data(request: Request) -> dict[str, str]:
        return {"e": "converted by FastAPI"}

    ops = APIRouter(tags=["ops"])
    ops.post("/f")(_only_request)

    routes = [*router.routes, *ops.routes]
    assert set(direct_endpoints(routes, "channels")) == {("POST", "/a")}


def test_the_table_answers_and_the_router_keeps_the_rest() -> None:
    app = FastAPI()
    table: dict[tuple[str, str], Callable[..., object]] = {}
    app.add_middleware(DirectRoutes, table=table)
    router = APIRouter(tags=["channels"])
    router.post("/hook")(_only_request)

    @router.post("/hook/{name}")
    async def by_router(name: str, request: Request) -> Response:
        return PlainTextResponse(f"router {name}")

    app.include_router(router)
    table.update(direct_endpoints(router.routes, "channels"))  # type: ignore[arg-type]
    seen: list[str] = []

    @app.middleware("http")
    async def routed(request: Request, call_next: Callable[..., object]) -> Response:
        response: Response = await call_next(request)  # type: ignore[misc]
        seen.append(request.url.path)
        return response

    client = TestClient(app, follow_redirects=False)
    assert client.post("/hook").text == "direct"
    assert client.post("/hook/x").text == "router x"
    assert client.get("/hook").status_code == 405  # another method: the router's answer
    assert client.post("/hook/").status_code == 307  # not the exact path: the router's redirect
    assert seen == ["/hook", "/hook/x", "/hook", "/hook/"]  # outer middlewares saw them all

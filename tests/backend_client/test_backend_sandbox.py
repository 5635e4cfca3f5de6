"""The client against the sandbox backend: in-process over ASGI, and over a real socket.

The demo accounts are fixed by the sandbox (sandbox/demo.py): guardian +212600000001 with
Z990000001 (born 2018-09-14) and Z990000002; +212600000002 with Z990000003 (born 2012-03-14);
+212600000099 linked to no student; application PRE-2026-0000001 (child born 2020-06-01).
The sandbox clock stands at 2026-05-20, in the second semester of 2025-2026.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from schema_drift import compare, normalise_path, response_schema

from backend_client import (
    ROUTES,
    ApplicationStatus,
    Decision,
    MassarClient,
    NotFound,
    NotLinked,
    Unauthorized,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from sandbox.settings import SandboxSettings

pytestmark = pytest.mark.anyio

TOKEN = "sandbox-token"
API = "/api/v1"
KHADIJA = "+212600000001"
NAIMA = "+212600000002"
UNLINKED = "+212600000099"


def sandbox_app(settings: SandboxSettings) -> FastAPI:
    from sandbox.app import create_app

    return create_app(settings)


@pytest.fixture(scope="module")
def sandbox_settings(tmp_path_factory: pytest.TempPathFactory) -> SandboxSettings:
    """A small seeded SQLite sandbox, built once per module with the documented CLI."""
    # Imported here, not at module level: while the sandbox is unfinished these tests
    # error one by one instead of stopping the collection of the whole suite.
    from sandbox.settings import SandboxSettings

    url = f"sqlite:///{tmp_path_factory.mktemp('sandbox') / 'sandbox.db'}"
    subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "sandbox", "seed", "--students", "40", "--database-url", url],
        check=True,
        timeout=180,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    return SandboxSettings(database_url=url, env="test", api_token=TOKEN)


@pytest.fixture
async def asgi_http(sandbox_settings: SandboxSettings) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client calling the sandbox in-process; the lifespan runs around it."""
    app = sandbox_app(sandbox_settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://sandbox.test"
        ) as http,
    ):
        yield http


@pytest.fixture
async def asgi_massar(asgi_http: httpx.AsyncClient) -> AsyncIterator[MassarClient]:
    async with MassarClient(f"http://sandbox.test{API}", TOKEN, http=asgi_http) as massar:
        yield massar


@pytest.fixture(scope="module")
def served_sandbox(sandbox_settings: SandboxSettings) -> Iterator[str]:
    """The sandbox served by uvicorn on a free loopback port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        sandbox_app(sandbox_settings),
        log_level="warning",
        access_log=False,
        ws="none",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        give_up = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > give_up or not thread.is_alive():
                raise RuntimeError("the sandbox did not start within 20 s")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    assert not thread.is_alive(), "the sandbox server did not stop"


# --- the demo accounts, through the client ----------------------------------------------


async def walk_the_demo(massar: MassarClient) -> None:
    """Lookup → children → profile, grades, absences, results; as a turn of the gateway would."""
    found = await massar.lookup_guardian(KHADIJA, deadline=5.0)
    assert found.guardian.first_name_fr == "Khadija"
    assert {s.first_name_fr for s in found.students} == {"Youssef", "Salma"}
    for child in found.students:
        assert child.massar_code_masked not in {"Z990000001", "Z990000002"}
        assert child.id.startswith("stu_")

    gid = found.guardian.id
    listed = await massar.guardian_students(gid)
    assert {s.id for s in listed} == {s.id for s in found.students}

    youssef = next(s for s in found.students if s.first_name_fr == "Youssef")
    profile = await massar.student(youssef.id, on_behalf_of=gid)
    assert profile.id == youssef.id

    grades = await massar.grades(youssef.id, "2025-2026", 1, on_behalf_of=gid)
    assert grades.student_id == youssef.id
    assert grades.subjects

    absences = await massar.absences(
        youssef.id, on_behalf_of=gid, date_from=date(2026, 5, 1), date_to=date(2026, 5, 20)
    )
    assert absences.items
    assert absences.totals.unjustified_hours >= 0

    with pytest.raises(NotFound) as not_yet:
        await massar.results(youssef.id, "2025-2026", on_behalf_of=gid)
    assert not_yet.value.code == "not-published"
    last_year = await massar.results(youssef.id, "2024-2025", on_behalf_of=gid)
    assert last_year.decision in set(Decision)


async def test_demo_guardian_over_asgi(asgi_massar: MassarClient) -> None:
    await walk_the_demo(asgi_massar)


@pytest.mark.slow
async def test_demo_guardian_over_a_real_socket(served_sandbox: str) -> None:
    async with MassarClient(f"{served_sandbox}{API}", TOKEN) as massar:
        await walk_the_demo(massar)
        assert (await massar.health()).status == "ok"


async def test_other_guardian_is_not_linked(asgi_massar: MassarClient) -> None:
    khadija = await asgi_massar.lookup_guardian(KHADIJA)
    naima = await asgi_massar.lookup_guardian(NAIMA)
    with pytest.raises(NotLinked) as caught:
        await asgi_massar.grades(
            khadija.students[0].id, "2025-2026", 1, on_behalf_of=naima.guardian.id
        )
    assert caught.value.code == "not-linked"


async def test_guardian_without_children_has_an_empty_list(asgi_massar: MassarClient) -> None:
    found = await asgi_massar.lookup_guardian(UNLINKED)
    assert found.students == ()


async def test_unknown_phone_is_not_found(asgi_massar: MassarClient) -> None:
    with pytest.raises(NotFound) as caught:
        await asgi_massar.lookup_guardian("+212600009999")
    assert caught.value.code == "guardian-not-found"


async def test_verify_matches_code_birth_date_and_phone(asgi_massar: MassarClient) -> None:
    found = await asgi_massar.lookup_guardian(NAIMA)
    result = await asgi_massar.verify_student("Z990000003", date(2012, 3, 14), NAIMA)
    assert result.match
    assert result.student_id == found.students[0].id


async def test_verify_with_unknown_code_does_not_match(asgi_massar: MassarClient) -> None:
    # One failure only: three in a row would lock this phone for the rest of the module.
    result = await asgi_massar.verify_student("Z999999999", date(2012, 3, 14), NAIMA)
    assert not result.match
    assert result.student_id is None


async def test_application_lookup_by_number_and_birth_date(asgi_massar: MassarClient) -> None:
    app = await asgi_massar.lookup_application("PRE-2026-0000001", date(2020, 6, 1))
    assert app.status is ApplicationStatus.UNDER_REVIEW
    assert [step.to for step in app.history] == ["submitted", "under_review"]


async def test_change_feed_reads_from_the_head(asgi_massar: MassarClient) -> None:
    head = await asgi_massar.changes_head()
    page = await asgi_massar.changes(cursor=head.cursor)
    assert page.items == ()
    assert page.has_more is False


async def test_guardians_batch_gives_the_phones_of_guardian_ids(asgi_massar: MassarClient) -> None:
    found = await asgi_massar.lookup_guardian(KHADIJA)
    contacts = await asgi_massar.guardians_batch([found.guardian.id, "gdn_nobody"])
    assert [(c.id, c.phones) for c in contacts] == [(found.guardian.id, (KHADIJA,))]
    with pytest.raises(ValueError, match="between 1 and 500"):
        await asgi_massar.guardians_batch([])


async def test_meta_gives_the_sandbox_school_year(asgi_massar: MassarClient) -> None:
    meta = await asgi_massar.meta()
    assert (meta.school_year, meta.semester) == ("2025-2026", 2)


async def test_wrong_token_is_unauthorized(asgi_http: httpx.AsyncClient) -> None:
    async with MassarClient(f"http://sandbox.test{API}", "not-the-token", http=asgi_http) as bad:
        with pytest.raises(Unauthorized):
            await bad.lookup_guardian(KHADIJA)


# --- the drift test -----------------------------------------------------------------------


async def test_client_models_match_the_sandbox_openapi(asgi_http: httpx.AsyncClient) -> None:
    reply = await asgi_http.get("/openapi.json")
    assert reply.status_code == 200
    openapi: dict[str, Any] = reply.json()
    served = {
        (method.upper(), normalise_path(path))
        for path, operations in openapi["paths"].items()
        for method in operations
    }

    problems: list[str] = []
    for route in ROUTES:
        key = (route.method, normalise_path(API + route.path))
        if key not in served:
            problems.append(f"{route.method} {API}{route.path}: not served")
            continue
        schema = response_schema(openapi, route.method, API + route.path)
        assert schema is not None
        if not schema:
            problems.append(f"{route.method} {API}{route.path}: no JSON reply schema")
            continue
        ours = route.model.model_json_schema(by_alias=True)
        problems += compare(ours, ours, schema, openapi, f"{route.method} {route.path}")
    assert problems == []

"""A seeded sandbox backend and a gateway wired to it in-process, plus handset helpers."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import REDIS_TIMEOUT_S
from tests.databases import migrated

SANDBOX_STUDENTS = 120
PUBLIC_URL = "https://gw.test"
AT_TOKEN = "test-at-token"
TWILIO_TOKEN = "test-twilio-token"


@pytest.fixture(scope="session")
def seeded_sandbox_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded sandbox database per run, copied for each test (seeding takes seconds)."""
    from sandbox import db
    from sandbox.seed import seed_database
    from sandbox.settings import SandboxSettings

    path = tmp_path_factory.mktemp("sandbox") / "sandbox.db"
    settings = SandboxSettings(database_url=f"sqlite:///{path}")
    engine = db.make_engine(settings.database_url)
    seed_database(engine, students=SANDBOX_STUDENTS, seed=settings.seed, now=settings.now)
    engine.dispose()
    return path


@pytest.fixture
def sandbox_database(seeded_sandbox_file: Path, tmp_path: Path) -> str:
    """A fresh copy: the backend's lockout counters and bindings start clean in every test."""
    copy = tmp_path / "sandbox.db"
    shutil.copyfile(seeded_sandbox_file, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def sandbox_app(sandbox_database: str) -> Iterator[object]:
    from sandbox.app import create_app as create_sandbox
    from sandbox.settings import SandboxSettings

    app = create_sandbox(SandboxSettings(database_url=sandbox_database, env="test"))
    with TestClient(app):  # runs the sandbox's lifespan (its database engine)
        yield app


def gateway_settings(tmp_path: Path, redis_url: str | None, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "test",
        "redis_url": redis_url,
        "database_url": f"sqlite:///{tmp_path}/gateway.db",
        "var_dir": tmp_path / "var",
        "public_url": PUBLIC_URL,
        "at_ussd_token": AT_TOKEN,
        "twilio_auth_token": TWILIO_TOKEN,
        "identity_key": f"test-key-{uuid.uuid4().hex}",  # fresh Redis keys for every test
        "redis_timeout_s": REDIS_TIMEOUT_S,
        "log_level": "WARNING",  # tests that read logs configure their own
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def make_gateway(
    tmp_path: Path, redis_url: str | None, sandbox_app: object
) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(
        *, backend_transport: httpx.AsyncBaseTransport | None = None, **overrides: object
    ) -> TestClient:
        settings = gateway_settings(tmp_path, redis_url, **overrides)
        transport = backend_transport or httpx.ASGITransport(app=sandbox_app)  # type: ignore[arg-type]
        app = create_app(migrated(settings), backend_transport=transport)
        client = TestClient(app, base_url=PUBLIC_URL)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def gateway(make_gateway: Callable[..., TestClient]) -> TestClient:
    return make_gateway()


@dataclass
class UssdPhone:
    """A handset dialling the USSD code: keeps AT's `text` path like the aggregator does."""

    client: TestClient
    phone: str
    session_id: str = field(default_factory=lambda: f"ATUid_{uuid.uuid4().hex[:10]}")
    path: list[str] = field(default_factory=list)
    last: httpx.Response | None = None

    def post(self, text: str) -> httpx.Response:
        self.last = self.client.post(
            "/channels/ussd/africastalking",
            params={"token": AT_TOKEN},
            data={
                "sessionId": self.session_id,
                "serviceCode": "*2020#",
                "phoneNumber": self.phone,
                "networkCode": "60400",
                "text": text,
            },
        )
        return self.last

    def dial(self) -> str:
        self.session_id, self.path = f"ATUid_{uuid.uuid4().hex[:10]}", []
        return self.screen(self.post(""))

    def press(self, key: str) -> str:
        self.path.append(key)
        return self.screen(self.post("*".join(self.path)))

    @staticmethod
    def screen(response: httpx.Response) -> str:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text.startswith(("CON ", "END ")), response.text
        return response.text


def sign_twilio(url: str, params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


@dataclass
class SmsPhone:
    client: TestClient
    phone: str

    def send(self, body: str, *, sid: str | None = None) -> str:
        params = {
            "MessageSid": sid or f"SM{uuid.uuid4().hex}",
            "AccountSid": "AC" + "1" * 32,
            "From": self.phone,
            "To": "+212500000000",
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        url = PUBLIC_URL + "/channels/sms/twilio"
        response = self.client.post(
            "/channels/sms/twilio",
            data=params,
            headers={"X-Twilio-Signature": sign_twilio(url, params)},
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/xml")
        from gateway.simulate import twiml_text

        return twiml_text(response.text)

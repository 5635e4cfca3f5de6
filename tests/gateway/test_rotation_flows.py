"""An identity key rotation, end to end through the real routes (issue #25 item 5): a parent
binds a child over USSD, another phone sends STOP, a third is locked out, all under the first
key; the gateway restarts with the new key (GATEWAY_IDENTITY_KEY_PREVIOUS = the old one),
`rekey` runs, the gateway restarts again: the child is still bound, the phone still opted out,
the lock still holds. A gateway still on the old configuration is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.runtime import Runtime
from gateway.state.identity import KeyMismatch
from gateway.state.rekey import RekeyReport, rekey
from tests.databases import empty_database
from tests.gateway.conftest import SmsPhone, UssdPhone
from tests.gateway.test_demo_flows import GUARDIAN, bind_by_ussd

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

OLD_KEY = "rotation-test-old-key-0123456789abcdef"
NEW_KEY = "rotation-test-new-key-fedcba9876543210"
STOPPER = "+212600000002"
LOCKED = "+212600000077"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str | None
) -> Iterator[str]:
    with empty_database(request.param, tmp_path / "db", postgres_url) as url:
        yield url


def runtime(client: TestClient) -> Runtime:
    found: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return found


def still_there(client: TestClient) -> None:
    """The parent's child, the opt-out and the lock, as the gateway sees them now."""
    phone = UssdPhone(client, GUARDIAN)
    phone.dial()
    assert "1. يوسف" in phone.press("1")  # the bound child, no code asked again
    assert phone.press("1").startswith("CON يوسف: ")
    state = runtime(client)
    assert client.portal.call(state.preferences.is_opted_out, STOPPER)  # type: ignore[union-attr]
    assert client.portal.call(state.lockout.is_locked, LOCKED)  # type: ignore[union-attr]


def test_a_rotation_loses_no_binding_opt_out_or_lockout(
    make_gateway: Callable[..., TestClient], database_url: str
) -> None:
    old = make_gateway(identity_key=OLD_KEY, database_url=database_url)
    phone = UssdPhone(old, GUARDIAN)
    phone.dial()
    assert bind_by_ussd(phone, "Z990000001", "14092018", menu_key="1").startswith("CON يوسف: ")
    SmsPhone(old, STOPPER).send("STOP")  # answered by the outbox, not in the reply
    assert old.portal.call(runtime(old).preferences.is_opted_out, STOPPER)  # type: ignore[union-attr]
    lockout = runtime(old).lockout
    for _ in range(5):
        old.portal.call(partial(lockout.record_failure, LOCKED, "Z990000009"))  # type: ignore[union-attr]
    assert old.portal.call(lockout.is_locked, LOCKED)  # type: ignore[union-attr]

    rotated = {"identity_key": NEW_KEY, "identity_key_previous": OLD_KEY}
    new = make_gateway(database_url=database_url, **rotated)
    assert runtime(new).keyring.carry
    assert list(runtime(new).keyring.generations()) == [1, 2]
    still_there(new)  # before the rekey

    state = runtime(new)
    report = new.portal.call(partial(_rekey, state))  # type: ignore[union-attr]
    assert report.done
    assert report.moved["phone_binding"] == 1
    assert report.moved["alert_preference"] == 1  # the STOP

    again = make_gateway(database_url=database_url, **rotated)
    assert list(runtime(again).keyring.generations()) == [2]  # the newest chain alone
    still_there(again)

    with pytest.raises(KeyMismatch, match="earlier key"):  # the old configuration
        make_gateway(identity_key=OLD_KEY, database_url=database_url)
    with pytest.raises(KeyMismatch, match="fingerprint mismatch"):  # the old key forgotten
        make_gateway(identity_key=NEW_KEY, database_url=database_url)


async def _rekey(state: Runtime) -> RekeyReport:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(partial(rekey, state.db, state.keyring))

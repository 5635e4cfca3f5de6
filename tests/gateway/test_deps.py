"""`gateway.deps`: the one way to the runtime, and what it says when there is none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.app import create_app
from gateway.deps import runtime_of
from gateway.runtime import Runtime
from tests.gateway.conftest import gateway_settings


def test_an_app_whose_lifespan_has_not_run_has_no_runtime(tmp_path: Path) -> None:
    app = create_app(gateway_settings(tmp_path, None))
    with pytest.raises(RuntimeError, match="lifespan has not opened its runtime"):
        runtime_of(app)
    with pytest.raises(RuntimeError, match="lifespan has not opened its runtime"):
        runtime_of(object())


def test_a_running_app_hands_out_the_runtime_its_lifespan_opened(
    make_gateway: Callable[..., TestClient],
) -> None:
    client = make_gateway(console_networks="10.9.0.0/16")
    found = runtime_of(client.app)
    assert isinstance(found, Runtime)
    assert found.settings.console_networks == ("10.9.0.0/16",)  # opened from the app's settings

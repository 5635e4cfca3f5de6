"""Property-based run of the OpenAPI contract: whatever the input, never a 5xx.

Driven with schemathesis 4's Python API (one Hypothesis run per operation) rather than its pytest
plugin, so the seeded database and the app's lifespan are ready before cases are generated.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from sandbox.app import create_app
from sandbox.settings import SandboxSettings
from tests.sandbox.conftest import API


def test_api_never_answers_5xx(seeded_path: Path, tmp_path: Path) -> None:
    app = create_app(SandboxSettings(database_url=f"sqlite:///{seeded_path}", env="test"))
    with TestClient(app):  # runs the lifespan (engine) used by the in-process calls
        # admin endpoints mutate chaos and the clock; they have their own tests
        schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(
            path_regex="^/_sandbox"
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        for operation in operations:

            @given(case=operation.as_strategy())
            @settings(
                max_examples=12,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def run(case) -> None:  # type: ignore[no-untyped-def]
                response = case.call(headers=API)
                case.validate_response(response, checks=[not_a_server_error])

            run()

"""The settings of a command: read once from the `GATEWAY_*` variables; a bad variable is one
line on stderr and exit 2, not a traceback."""

from __future__ import annotations

import sys

import pydantic

from gateway.checks import BadSetting, check_settings
from gateway.settings import Settings


def load_settings() -> Settings:
    try:
        settings = Settings()
        check_settings(settings)
    except pydantic.ValidationError as exc:
        for error in exc.errors():
            print(f"massar-gateway: {error['msg']}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None
    except BadSetting as exc:  # the words pydantic's error had when the settings read it
        print(f"massar-gateway: Value error, {exc.reason}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None
    return settings

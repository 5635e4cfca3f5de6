"""The settings template: every `GATEWAY_*` variable with its one-line help and default, as an
environment file (`python -m gateway settings --template`, `deploy/gateway.env.example`).

Every variable is commented out at its default, so the file as shipped changes nothing: an
operator uncomments what the deployment sets. A secret never shows a value (not even the
demo's, which production refuses): its line is empty and says how to get one.
"""

from __future__ import annotations

import enum
from datetime import time
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from gateway.settings import Settings
from gateway.settings.help import HELP
from gateway.settings.kannel import KannelRoute, KannelSettings
from gateway.settings.parts import AlertSettings, ChatSettings, ConsoleSettings, VoiceSettings
from gateway.settings.secrets import COMMAND, SELF_CHOSEN
from gateway.settings.surface import SurfaceSettings

__all__ = ["SECTIONS", "env_value", "is_secret", "listed", "template"]

PREFIX = "GATEWAY_"

# In the order the file lists them: each class's own fields, as it declares them.
SECTIONS: tuple[tuple[str, type[BaseSettings]], ...] = (
    ("The gateway: where it runs, Redis, database, backend, peak load, outbox", Settings),
    ("Kannel: SMS and USSD through the operators' SMSCs", KannelSettings),
    ("The hotline's voice menu", VoiceSettings),
    ("WhatsApp and Telegram", ChatSettings),
    ("Alerts from the change feed", AlertSettings),
    ("The operators' console and /admin", ConsoleSettings),
    ("API docs and /metrics", SurfaceSettings),
)

HEADER = f"""\
# massar-gateway settings: an environment file (systemd's EnvironmentFile=, or `set -a; .`).
# Written by `python -m gateway settings --template`; tests/deploy fails when this copy and
# the command's output differ. Every variable is commented out at its default: uncomment and
# set what this deployment changes. Secrets show no value: `{COMMAND}` makes one
# (256 random bits) for those the deployment chooses; the others come from their provider.
"""


def is_secret(field: FieldInfo) -> bool:
    """A setting whose value is a secret (`SecretStr`, optional, or a map of them)."""
    return "SecretStr" in repr(field.annotation)


def env_value(value: Any) -> str:
    """`value` as the environment spells it for `Settings` to read it back (empty: unset)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, KannelRoute):
        return ":".join(part for part in (value.prefix, value.smsc, value.sender) if part)
    if isinstance(value, frozenset):
        return ",".join(sorted(env_value(v) for v in value))
    if isinstance(value, tuple | list):
        return ",".join(env_value(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}:{env_value(v)}" for k, v in value.items())
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _secret_note(name: str) -> str:
    if name == "admin_tokens":
        return f"each token from `{COMMAND}`"
    if name in SELF_CHOSEN:
        return f"secret: make one with `{COMMAND}`"
    return "secret: the one its provider issues"


def _entry(name: str, field: FieldInfo) -> list[str]:
    help_line = HELP[name]
    variable = PREFIX + name.upper()
    if is_secret(field):
        return [f"# {help_line} ({_secret_note(name)})", f"#{variable}="]
    default = field.get_default(call_default_factory=True)
    return [f"# {help_line}", f"#{variable}={env_value(default)}"]


def template() -> str:
    """The whole file: a header, then one section per part of the settings."""
    lines = [HEADER.rstrip("\n")]
    fields = Settings.model_fields
    for title, part in SECTIONS:
        lines += ["", f"# === {title} ==="]
        for name in part.__annotations__:
            if name in fields:
                lines += ["", *_entry(name, fields[name])]
    return "\n".join(lines) + "\n"


def listed() -> list[str]:
    """Every setting's name in the order the template lists it."""
    fields = Settings.model_fields
    return [name for _, part in SECTIONS for name in part.__annotations__ if name in fields]

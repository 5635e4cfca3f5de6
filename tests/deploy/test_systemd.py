"""deploy/systemd: the gateway, the sender worker and the alerts consumer as hardened units and
a target grouping them; `systemd-analyze verify` finds nothing to say about any of them.

`verify` needs no running systemd, but checks that each ExecStart's program exists and is
executable, and loads the units the files name (sysinit.target…). So it runs with `--root`
on a directory laid out as a host the kit is installed on: the venv's python (a stub: only
its presence and mode are checked), /etc/massar-gateway/gateway.env (the example), the units
in /etc/systemd/system and this machine's own systemd units. `verify` exits 0 even for an
unknown key or a bad value (it prints a warning and goes on), so any output fails the test;
a unit with a typo is shown to produce some.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.cli import COMMANDS
from gateway.settings import Settings
from tests.deploy.units import DEPLOY, SYSTEMD, environment, tool, values, why_missing

SERVICES = ("serve", "worker", "alerts")
UNITS = [SYSTEMD / f"massar-gateway-{name}.service" for name in SERVICES]
TARGET = SYSTEMD / "massar-gateway.target"
PYTHON = "/opt/massar-gateway/.venv/bin/python"
ENV_FILE = "/etc/massar-gateway/gateway.env"
HOST_UNITS = next(
    (p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system")) if p.is_dir()),
    None,
)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root directory as a host the kit is installed on."""
    analyze = tool("systemd-analyze")
    if analyze is None or HOST_UNITS is None:
        pytest.skip(why_missing("systemd-analyze", "systemd"))
    root = tmp_path_factory.mktemp("root")
    python = root / PYTHON.lstrip("/")
    python.parent.mkdir(parents=True)
    python.write_text("#!/bin/sh\n")
    python.chmod(0o755)
    env_file = root / ENV_FILE.lstrip("/")
    env_file.parent.mkdir(parents=True)
    shutil.copy(DEPLOY / "gateway.env.example", env_file)
    shutil.copytree(HOST_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    units = root / "etc/systemd/system"
    units.mkdir(parents=True)
    for unit in [*UNITS, TARGET]:
        shutil.copy(unit, units)
    return root


def verify(root: Path, *names: str) -> str:
    analyze = tool("systemd-analyze")
    assert analyze is not None
    done = subprocess.run(  # noqa: S603 - the host's systemd-analyze on our files
        [analyze, "verify", "--man=no", f"--root={root}", *names],
        cwd=root / "etc/systemd/system",
        capture_output=True,
        text=True,
        check=False,
    )
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}".strip()


def test_systemd_analyze_verify_finds_nothing(installed: Path) -> None:
    names = [unit.name for unit in [*UNITS, TARGET]]
    assert verify(installed, *names) == "exit 0"


def test_verify_speaks_up_about_a_broken_unit(installed: Path) -> None:
    units = installed / "etc/systemd/system"
    broken = units / "massar-gateway-broken.service"
    text = (SYSTEMD / "massar-gateway-worker.service").read_text()
    broken.write_text(text.replace("ProtectSystem=strict", "ProtectSystm=strict"))
    try:
        assert "Unknown key 'ProtectSystm'" in verify(installed, broken.name)
    finally:
        broken.unlink()
    python = installed / PYTHON.lstrip("/")
    python.chmod(0o644)
    try:
        assert "is not executable" in verify(installed, UNITS[1].name)
    finally:
        python.chmod(0o755)


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_rates_each_services_exposure_low(installed: Path, unit: Path) -> None:
    """`systemd-analyze security --offline` scores a unit's sandboxing from 0 (locked) to 10
    (nothing): each of ours stays at or under 2 ("OK" under 4.9). `--threshold` counts in
    tenths of the level shown (20 is 2.0); a level over it exits 1."""
    analyze = tool("systemd-analyze")
    assert analyze is not None
    done = subprocess.run(  # noqa: S603 - the host's systemd-analyze on our files
        [analyze, "security", "--offline=true", "--threshold=20", f"--root={installed}", unit.name],
        cwd=installed / "etc/systemd/system",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-400:] + done.stderr
    assert f"Overall exposure level for {unit.name}:" in done.stdout


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_service_is_hardened_and_reads_the_settings_file(unit: Path) -> None:
    def one(key: str) -> str:
        [value] = values(unit, "Service", key)
        return value

    assert one("DynamicUser") == "yes"
    assert one("User") == "massar-gateway"  # one dynamic uid shared by the three units
    assert one("ProtectSystem") == "strict"
    assert one("NoNewPrivileges") == "yes"
    assert one("PrivateTmp") == "yes"
    assert one("ProtectHome") == "yes"
    assert one("CapabilityBoundingSet") == ""
    assert one("SystemCallFilter") == "@system-service"
    assert one("StateDirectory") == "massar-gateway"
    assert one("ReadWritePaths") == "/var/lib/massar-gateway"
    assert environment(unit)["GATEWAY_VAR_DIR"] == "/var/lib/massar-gateway"
    assert environment(unit)["GATEWAY_ENV"] == "production"
    assert one("EnvironmentFile") == ENV_FILE
    assert one("Restart") == "on-failure"
    assert one("RestartPreventExitStatus") == "2"  # refused settings: no restart loop
    assert values(unit, "Unit", "PartOf") == [TARGET.name]
    assert values(unit, "Install", "WantedBy") == [TARGET.name]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_a_stop_ends_before_another_worker_would_take_over(unit: Path) -> None:
    """A worker stopped mid-send gets TimeoutStopSec to finish; its entries are reclaimed by
    another after GATEWAY_OUTBOX_RECLAIM_IDLE_S: the first must end before the second."""
    [timeout] = values(unit, "Service", "TimeoutStopSec")
    settings = Settings()
    assert settings.sms_budget_s < int(timeout) < settings.outbox_reclaim_idle_s
    assert values(unit, "Service", "KillSignal") == ["SIGTERM"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_exec_start_is_a_command_the_gateway_has(unit: Path) -> None:
    [command] = values(unit, "Service", "ExecStart")
    program, dash_m, module, *argv = shlex.split(command)
    assert (program, dash_m, module) == (PYTHON, "-m", "gateway")
    parser = argparse.ArgumentParser(exit_on_error=False)
    sub = parser.add_subparsers(dest="command", required=True)
    for each in COMMANDS:
        each.register(sub)
    args = parser.parse_args(argv)  # an unknown command or flag exits here (SystemExit 2)
    assert args.command == unit.stem.removeprefix("massar-gateway-")


def test_the_target_groups_the_three_services() -> None:
    wanted = " ".join(values(TARGET, "Unit", "Wants")).split()
    assert sorted(wanted) == sorted(unit.name for unit in UNITS)
    assert values(TARGET, "Install", "WantedBy") == ["multi-user.target"]


def test_the_metrics_ports_are_distinct_and_on_loopback() -> None:
    ports = [values(unit, "Service", "ExecStart")[0].split("--metrics-port")[-1] for unit in UNITS]
    serve = environment(UNITS[0])
    assert serve["GATEWAY_HOST"] == "127.0.0.1"  # only nginx reaches it
    assert serve["FORWARDED_ALLOW_IPS"] == "127.0.0.1"  # and only nginx may forward
    assert {environment(unit)["GATEWAY_HOST"] for unit in UNITS} == {"127.0.0.1"}
    metrics = [p.strip() for p in ports[1:]]
    assert len(set(metrics)) == 2
    assert serve["GATEWAY_PORT"] not in metrics

"""deploy/prometheus and deploy/grafana: `promtool` accepts the scrape config and the rules
and passes rules_test.yml (each rule fires and stays quiet where it should); every metric
the rules and the dashboard read is one the gateway exports, with the labels they use; the
scrape targets are the ports the systemd units serve; the dashboard is valid JSON, each of
its expressions valid PromQL, and it shows what an operator watches."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.promql import TARGET_LABELS, exported, reads
from tests.deploy.units import DEPLOY, SYSTEMD, environment, tool, values, why_missing

PROMETHEUS = DEPLOY / "prometheus"
DASHBOARD = DEPLOY / "grafana" / "gateway.json"
# Metrics that come from Prometheus itself, not from the gateway.
EXTERNAL = frozenset({"up"})


def promtool(*args: str, cwd: Path = PROMETHEUS) -> str:
    binary = tool("promtool")
    if binary is None:
        pytest.skip(why_missing("promtool", "prometheus"))
    done = subprocess.run(  # noqa: S603 - the host's promtool on our files
        [binary, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def rules() -> list[dict[str, Any]]:
    doc = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def dashboard() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return doc


def dashboard_exprs() -> list[str]:
    return [t["expr"] for panel in dashboard()["panels"] for t in panel["targets"]]


def test_promtool_accepts_the_config_and_the_rules() -> None:
    assert "SUCCESS" in promtool("check", "config", "prometheus.yml")
    assert f"SUCCESS: {len(rules())} rules found" in promtool("check", "rules", "rules.yml")


def test_promtool_passes_the_rules_unit_tests() -> None:
    assert "SUCCESS" in promtool("test", "rules", "rules_test.yml")


def test_every_rule_is_shown_firing_in_the_unit_tests() -> None:
    doc = yaml.safe_load((PROMETHEUS / "rules_test.yml").read_text())
    fired = {
        case["alertname"]
        for test in doc["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == {rule["alert"] for rule in rules()}


def test_the_rules_cover_what_operations_asked_for() -> None:
    text = " ".join(rule["expr"] for rule in rules())
    for metric in (
        "massar_outbox_backlog",  # backlog size
        "massar_outbox_oldest_age_seconds",  # and age
        "massar_outbox_failed_total",  # sender failure rate per provider
        "massar_delivery_reports_total",  # delivery-report failures per operator link
        "massar_breaker_state",
        'massar_store_up{part="redis"}',
        'massar_store_up{part="database"}',
        "massar_redis_memory_max_bytes",
        'massar_turn_seconds_bucket{channel="ussd"}',
        "massar_alerts_lag_seconds",
        "massar_outbox_bulk_waiting",  # bulk producers paused past the high water mark
    ):
        assert metric in text, metric


@pytest.mark.parametrize(
    "source", ["rules", "dashboard"], ids=["rules.yml", "grafana/gateway.json"]
)
def test_every_metric_read_is_one_the_gateway_exports(source: str) -> None:
    exprs = [rule["expr"] for rule in rules()] if source == "rules" else dashboard_exprs()
    samples = exported()
    for expr in exprs:
        read = reads(expr)
        assert read.metrics, expr
        unknown = read.metrics - set(samples) - EXTERNAL
        assert not unknown, f"{sorted(unknown)} in {expr}"
        for metric, label in read.matched:
            if metric not in EXTERNAL:
                assert label in samples[metric] | TARGET_LABELS, f"{metric} has no {label}"
        labels = set().union(*(samples.get(m, frozenset()) for m in read.metrics))
        assert read.grouped <= labels | TARGET_LABELS, f"{read.grouped - labels} in {expr}"


def test_the_metric_check_catches_a_name_the_gateway_does_not_export() -> None:
    read = reads('sum by (sender) (rate(massar_outbox_sent_totl{kind="alert"}[5m])) > 0')
    assert read.metrics == {"massar_outbox_sent_totl"}
    assert "massar_outbox_sent_totl" not in exported()
    assert read.matched == {("massar_outbox_sent_totl", "kind")}
    assert read.grouped == {"sender"}


def test_the_scrape_targets_are_the_ports_the_units_serve() -> None:
    doc = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
        for job in doc["scrape_configs"]
    }
    serve = SYSTEMD / "massar-gateway-serve.service"
    port = environment(serve)["GATEWAY_PORT"]
    assert targets["massar-gateway"] == [f"127.0.0.1:{port}"]
    for job, unit in (("massar-worker", "worker"), ("massar-alerts", "alerts")):
        [command] = values(SYSTEMD / f"massar-gateway-{unit}.service", "Service", "ExecStart")
        metrics_port = command.split("--metrics-port")[1].split()[0]
        assert targets[job] == [f"127.0.0.1:{metrics_port}"], job


def test_the_dashboard_shows_what_an_operator_watches() -> None:
    doc = dashboard()
    panels = doc["panels"]
    assert len({p["id"] for p in panels}) == len(panels)
    assert doc["uid"] == "massar-gateway"
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
    text = " ".join(dashboard_exprs())
    for wanted in (
        "rate(massar_turns_total",  # turns/s by channel
        "histogram_quantile(0.5,",  # p50
        "histogram_quantile(0.99,",  # p99
        "massar_outbox_backlog",  # backlog by priority
        "sum by (kind) (rate(massar_outbox_sent_total",  # rate by priority (kind)
        "sum by (channel, link, status) (rate(massar_delivery_reports_total",
        "massar_breaker_state",
        'massar_outbox_sent_total{kind="alert"}',  # alerts sent
    ):
        assert wanted in text, wanted


def test_each_dashboard_expression_is_valid_promql(tmp_path: Path) -> None:
    """promtool checks PromQL in rule files: each panel's queries as recording rules."""
    recorded = [
        {"record": f"dashboard:query_{n}", "expr": re.sub(r"\$__\w+", "5m", expr)}
        for n, expr in enumerate(dashboard_exprs())
    ]
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": recorded}]}))
    assert f"SUCCESS: {len(recorded)} rules found" in promtool("check", "rules", str(path))

"""The docker/ files cannot be run here (no Docker engine), so check what can be checked."""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import csms.metrics  # noqa: F401 - registers the metrics

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def defined_metric_names() -> set[str]:
    names = set()
    for collector in REGISTRY._collector_to_names:
        names.update(REGISTRY._collector_to_names[collector])
    return names


def test_dashboard_queries_only_metrics_the_csms_exports() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "csms.json").read_text())
    exported = defined_metric_names()
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used.update(re.findall(r"\bcsms_[a-z_]+\b", target["expr"]))
    assert used, "the dashboard queries nothing"
    assert used <= exported, used - exported


def test_prometheus_scrapes_both_nodes_of_the_compose_file() -> None:
    compose = (DOCKER / "compose.yaml").read_text()
    prometheus = (DOCKER / "prometheus.yml").read_text()
    nginx = (DOCKER / "nginx.conf").read_text()
    for node in ("csms-a", "csms-b"):
        assert re.search(rf"^  {node}:$", compose, re.M), node
        assert f"CSMS_NODE_ID: {node}" in compose
        assert f"{node}:8000" in prometheus
        assert f"server {node}:9000" in nginx and f"server {node}:8000" in nginx
    # WebSocket upgrade must pass through the proxy
    assert "proxy_set_header Upgrade $http_upgrade" in nginx


def test_dockerfile_runs_the_console_script_with_migrations_beside_it() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    assert "pip install -e ." in dockerfile and "COPY schemas schemas" in dockerfile
    assert 'ENTRYPOINT ["csms"]' in dockerfile

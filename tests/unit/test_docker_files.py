"""The docker/ and deploy/ files cannot be run here (no container engine, no systemd), so check
what can be checked: they agree with each other and with the CSMS, and hold no default secret.

(tests/integration/test_wheel_install.py installs and starts the wheel the image is built from.)
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import csms.metrics  # noqa: F401 - registers the metrics
from csms.config import OPTIONS

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = (DOCKER / "compose.yaml").read_text(encoding="utf-8")
NGINX = (DOCKER / "nginx.conf").read_text(encoding="utf-8")
DOCKERFILE = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
SECRETS = ("POSTGRES_PASSWORD", "CSMS_ADMIN_TOKEN", "CSMS_SECRET_KEY", "GRAFANA_ADMIN_PASSWORD")


def defined_metric_names() -> set[str]:
    names = set()
    for collector in REGISTRY._collector_to_names:
        names.update(REGISTRY._collector_to_names[collector])
    return names


def block(text: str, opening: str) -> str:
    """The body of the brace block that starts at `opening` (nginx syntax)."""
    start = text.index(opening) + len(opening)
    depth, at = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(text[at], 0)
        at += 1
    return text[start : at - 1]


def stages(dockerfile: str) -> list[list[str]]:
    """The instructions of each build stage, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", dockerfile)
    result: list[list[str]] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            result.append([])
        result[-1].append(line)
    return result


def test_dashboard_queries_only_metrics_the_csms_exports() -> None:
    dashboard = json.loads((DOCKER / "grafana" / "dashboards" / "csms.json").read_text())
    exported = defined_metric_names()
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used.update(re.findall(r"\bcsms_[a-z_]+\b", target["expr"]))
    assert used, "the dashboard queries nothing"
    assert used <= exported, used - exported


def test_both_nodes_are_scraped_and_proxied() -> None:
    prometheus = (DOCKER / "prometheus.yml").read_text()
    ocpp, http = block(NGINX, "stream {"), block(NGINX, "http {")
    for node in ("csms-a", "csms-b"):
        assert re.search(rf"^  {node}:$", COMPOSE, re.M), node
        assert f"CSMS_NODE_ID: {node}" in COMPOSE
        assert f"{node}:8000" in prometheus
        assert f"server {node}:9000" in ocpp and f"server {node}:8000" in http


def test_ocpp_tls_passes_through_nginx_to_nodes_that_terminate_it() -> None:
    # Profile 3: the node must see the station's client certificate, so nginx may not
    # terminate TLS on the OCPP port (a stream proxy, no `ssl` on its listen).
    ocpp = block(NGINX, "stream {")
    assert re.search(r"listen 9000;", ocpp) and "proxy_pass csms_ocpp;" in ocpp
    assert "ssl" not in ocpp
    assert "9000" not in block(NGINX, "http {")
    for variable in ("CSMS_TLS_CERT", "CSMS_TLS_KEY", "CSMS_TLS_CLIENT_CA"):
        assert re.search(rf"^    {variable}: \S", COMPOSE, re.M), variable
    assert "./tls:/etc/csms/tls:ro" in COMPOSE
    # the API, which carries bearer keys, is TLS too
    assert "listen 8443 ssl;" in NGINX and '"8443:8443"' in COMPOSE
    assert '"8000:8000"' not in COMPOSE


def test_compose_holds_no_default_secret_and_refuses_to_start_without_one() -> None:
    assert not re.search(r"^name:", COMPOSE, re.M), "older compose tools reject `name:`"
    for name in SECRETS:
        uses = re.findall(rf"\$\{{{name}([^}}]*)\}}", COMPOSE)
        assert uses, name
        for rest in uses:
            assert rest.startswith(":?") and "openssl rand" in rest, (name, rest)
    assert "change-me" not in COMPOSE and "csms:csms@" not in COMPOSE
    literal = re.search(r"^ +\w*(PASSWORD|TOKEN|SECRET_KEY): *(?!\"?\$\{)\S", COMPOSE, re.M)
    assert literal is None, literal
    # Monitoring without its own authentication stays on this host.
    assert '"127.0.0.1:9090:9090"' in COMPOSE and '"127.0.0.1:3000:3000"' in COMPOSE


def test_both_nodes_share_one_sealing_key() -> None:
    anchor = COMPOSE[COMPOSE.index("environment: &csms-env") : COMPOSE.index("\nservices:")]
    services = COMPOSE.split("\nservices:\n")[1]
    assert "CSMS_SECRET_KEY: " in anchor and "CSMS_SECRET_KEY" not in services
    for node in ("csms-a", "csms-b"):
        service = COMPOSE.split(f"  {node}:\n", 1)[1].split("\n\n", 1)[0]
        assert "<<: *csms" in service and "<<: *csms-env" in service, node


def test_every_csms_variable_of_the_compose_file_is_a_serve_option() -> None:
    known = {opt.env for opt in OPTIONS} | {"CSMS_ADMIN_TOKEN", "CSMS_SECRET_KEY", "DATABASE_URL"}
    anchor = COMPOSE[COMPOSE.index("environment: &csms-env") : COMPOSE.index("\nservices:")]
    named = set(re.findall(r"^ +((?:CSMS_|DATABASE_)[A-Z_]+):", COMPOSE, re.M))
    assert named and named <= known, named - known
    # one id per node: a second live process with the same id refuses to start
    assert "CSMS_NODE_ID" not in anchor
    # YAML loaders keep the last of two equal keys without a word: a silent override
    keys = re.findall(r"^    ([A-Z_]+):", anchor, re.M)
    assert len(keys) == len(set(keys)), keys


def test_the_env_example_names_every_required_variable_with_no_value() -> None:
    example = (DOCKER / ".env.example").read_text(encoding="utf-8")
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE))
    assert required == set(SECRETS)
    for name in required:
        assert re.search(rf"^{name}=$", example, re.M), name


def test_the_image_is_built_from_the_wheel_and_runs_unprivileged() -> None:
    build, final = stages(DOCKERFILE)
    assert any(re.search(r"pip wheel .*--no-deps", line) for line in build)
    assert any("pip install /wheels/csms-" in line for line in build)
    assert not any("pip install -e" in line for line in (*build, *final))
    # the final stage copies the built virtualenv and nothing from the source tree
    copies = [line for line in final if line.upper().startswith("COPY")]
    assert copies and all(line.startswith("COPY --from=build /opt/csms ") for line in copies)
    assert "USER csms" in final and "CSMS_DATA_DIR=/var/lib/csms" in " ".join(final)
    assert any("install -d -o csms -g csms" in line and "/var/lib/csms" in line for line in final)
    assert 'ENTRYPOINT ["csms"]' in final


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for path in (".venv", "var", ".git", "docker/.env", "docker/tls"):
        assert path in ignored, path


def test_the_systemd_unit_runs_the_installed_wheel_as_its_own_user() -> None:
    unit = (ROOT / "deploy" / "csms.service").read_text(encoding="utf-8")
    settings = dict(
        line.split("=", 1) for line in unit.splitlines() if re.match(r"^[A-Z]\w*=", line)
    )
    assert settings["ExecStart"].endswith("/bin/csms serve")
    assert settings["User"] == "csms" and settings["StateDirectory"] == "csms"
    assert settings["Environment"] == "CSMS_DATA_DIR=/var/lib/csms"
    assert settings["Restart"] == "on-failure"
    assert settings["ProtectSystem"] == "strict" and settings["NoNewPrivileges"] == "yes"
    assert settings["EnvironmentFile"].startswith("/etc/csms/")
    example = (ROOT / "deploy" / "csms.env.example").read_text(encoding="utf-8")
    known = {opt.env for opt in OPTIONS} | {"CSMS_ADMIN_TOKEN", "CSMS_SECRET_KEY"}
    named = set(re.findall(r"^#? ?([A-Z_]+)=", example, re.M))
    assert named and named <= known, named - known

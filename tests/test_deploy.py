"""deploy/ stays consistent with the application: dashboards and rules only name metrics
it exports, compose and Kubernetes agree on images, ports, env vars and config, and the
report renders a picture worth looking at."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

import stormwatch
from stormwatch.config import Settings
from stormwatch.metrics import StormwatchMetrics
from stormwatch.playbooks.loader import check as check_playbooks
from tests.metrics_run import exported_metric_names, run_scenario

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
METRIC = re.compile(r"\bstormwatch_[a-z_]+")
ENV_NAME = re.compile(r"\b((?:STORMWATCH|SLACK)_[A-Z_]+)\b")
METRICS_PORT = 9108


@pytest.fixture(scope="module")
def exported() -> set[str]:
    return exported_metric_names(_registry())


def _registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    StormwatchMetrics(registry)
    return registry


def _names_in(text: str) -> set[str]:
    return {re.sub(r"_(bucket|sum|count)$", "", m) for m in METRIC.findall(text)}


def _exprs(node: object) -> list[str]:
    """Every PromQL string in a dashboard: targets, variables and annotations."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "definition") and isinstance(value, str):
                out.append(value)
            elif key == "query" and isinstance(value, dict) and "query" in value:
                out.append(value["query"])
            else:
                out += _exprs(value)
    elif isinstance(node, list):
        for item in node:
            out += _exprs(item)
    return out


def test_dashboards_are_generated_and_up_to_date() -> None:
    assert {p.name for p in DASHBOARDS} == {"overview.json", "brand-health.json", "incidents.json"}
    out = subprocess.run(
        [sys.executable, str(DEPLOY / "grafana" / "build_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr


def test_the_crisis_score_panel_turns_red_where_incidents_open() -> None:
    """The gauge is the tests' evidence over their thresholds (alarm at 1), the scale of
    an alert event's `score`; the panel kept an older scale's red at 8, so a storm that
    opened at 1.09 and went critical at 5.9 never left green and orange."""
    import json

    board = json.loads((DEPLOY / "grafana" / "dashboards" / "brand-health.json").read_text())
    (panel,) = [p for p in board["panels"] if p["title"].startswith("Crisis score")]
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    red = next(s["value"] for s in steps if s["color"] == "red")
    orange = next(s["value"] for s in steps if s["color"] == "orange")
    opened = [e.score for e in run_scenario().memory.events if e.event == "opened"]
    assert opened and orange < red <= min(opened), (steps, opened)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_dashboard_query_names_an_exported_metric(path: Path, exported: set[str]) -> None:
    import json

    board = json.loads(path.read_text())
    exprs = _exprs(board)
    assert len(exprs) >= 5
    for expr in exprs:
        names = _names_in(expr)
        assert names or "up{" in expr, f"{path.name}: query names no stormwatch metric: {expr}"
        assert names <= exported, f"{path.name}: {sorted(names - exported)} not exported"
    # any datasource name: queries go through the `datasource` variable, no fixed uid
    [chooser] = [v for v in board["templating"]["list"] if v["type"] == "datasource"]
    assert chooser["name"] == "datasource" and chooser["query"] == "prometheus"
    for panel in board["panels"]:
        for target in panel.get("targets", []):
            assert target["datasource"]["uid"] == "${datasource}"
    assert '"uid": "prometheus"' not in path.read_text()


def test_alert_rules_name_exported_metrics(exported: set[str]) -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "rules" / "stormwatch.rules.yml").read_text())
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    assert {r["alert"] for r in alerts} >= {
        "StormwatchIngestStalled", "StormwatchConsumerLagGrowing",
        "StormwatchDeadLetterRatioHigh", "StormwatchDeliveriesFailing", "StormwatchWorkerDown",
    }  # fmt: skip
    for rule in alerts:
        assert _names_in(rule["expr"]) <= exported, rule["alert"]
        assert rule["labels"]["component"] == "pipeline"


def _app_env_names() -> set[str]:
    """Environment variables the application reads: settings fields, plus every literal
    STORMWATCH_*/SLACK_* name in the package's sources."""
    from dataclasses import fields

    names = {f"STORMWATCH_{f.name.upper()}" for f in fields(Settings)}
    for folder in ("stormwatch", "ingest", "detectors", "alerts", "playbooks"):
        for source in (ROOT / folder).rglob("*.py"):
            names |= set(ENV_NAME.findall(source.read_text(encoding="utf-8")))
    return names


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _k8s() -> list[dict]:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    docs = []
    for resource in kustomization["resources"]:
        docs += [d for d in yaml.safe_load_all((DEPLOY / "k8s" / resource).read_text()) if d]
    return docs


def _option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_compose_services_agree_with_prometheus_and_the_app() -> None:
    compose = _compose()
    services = compose["services"]
    assert {"kafka", "postgres", "worker", "serve", "prometheus", "alertmanager", "grafana"} <= set(
        services
    )
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert "controller" in services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]  # KRaft
    worker = services["worker"]["command"]
    assert worker[:1] == ["worker"]
    assert _option(worker, "--bootstrap") == "kafka:9092"
    assert _option(worker, "--topic") == "comments"
    assert _option(worker, "--group") == "stormwatch"
    prom = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    for service, job in (("worker", "stormwatch-worker"), ("serve", "stormwatch-serve")):
        svc = services[service]
        port = int(_option(svc["command"], "--metrics-port"))
        sd = jobs[job]["dns_sd_configs"][0]
        assert (sd["names"], sd["port"]) == ([service], port) == ([service], METRICS_PORT)
        assert svc["image"] == f"stormwatch:{stormwatch.__version__}"
        assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
        assert int(svc["environment"]["STORMWATCH_METRICS_PORT"]) == port
    assert "--metrics-port 9108" in services["replay"]["command"][0]
    assert prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "alertmanager:9093"
    ]
    known = _app_env_names()
    for name, svc in services.items():
        for var in svc.get("environment") or {}:
            if var.startswith(("STORMWATCH_", "SLACK_")):
                assert var in known, f"compose {name}: {var} is not read by stormwatch"
    # Every mounted file exists in deploy/.
    for svc in services.values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), source


def test_grafana_is_provisioned_with_the_dashboards_and_datasource() -> None:
    grafana = _compose()["services"]["grafana"]
    mounts = dict(v.split(":")[:2] for v in grafana["volumes"] if v.startswith("./"))
    providers = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "dashboards" / "stormwatch.yml").read_text()
    )["providers"]
    assert mounts["./grafana/dashboards"] == providers[0]["options"]["path"]
    datasource = yaml.safe_load(
        (DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"][0]
    assert datasource["uid"] == "prometheus" and datasource["url"] == "http://prometheus:9090"


def test_kubernetes_manifests_are_consistent(exported: set[str]) -> None:
    docs = _k8s()
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Deployment", "stormwatch-worker") in kinds and (
        "Deployment",
        "stormwatch-serve",
    ) in kinds
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert kustomization["images"][0]["newTag"] == stormwatch.__version__
    configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
    assert not [d for d in docs if d["kind"] == "Secret"], "apply -k would overwrite the Secret"
    secret = yaml.safe_load((DEPLOY / "k8s" / "secret.example.yaml").read_text())
    known = _app_env_names()
    for name in secret["stringData"]:
        assert name in known, f"secret key {name} is not read by stormwatch"
    for d in docs:
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]
        container = pod["spec"]["containers"][0]
        assert container["image"] == kustomization["images"][0]["name"]
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        assert ports["metrics"] == METRICS_PORT
        assert int(_option(container["args"], "--metrics-port")) == METRICS_PORT
        assert int(pod["metadata"]["annotations"]["prometheus.io/port"]) == METRICS_PORT
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["envFrom"][0]["secretRef"]["name"] == secret["metadata"]["name"]
        for env in container.get("env", []):
            if env["name"].startswith("STORMWATCH_"):
                assert env["name"] in known, env["name"]
            ref = env.get("valueFrom", {}).get("configMapKeyRef")
            if ref:
                assert ref["key"] in configmaps[ref["name"]]["data"]
        for volume in pod["spec"]["volumes"]:
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configmaps
    # `serve` is one pipeline with one checkpoint in the store: one pod, never two at once.
    serve = next(d for d in docs if d["metadata"]["name"] == "stormwatch-serve"
                 and d["kind"] == "Deployment")  # fmt: skip
    assert serve["spec"]["replicas"] == 1
    assert serve["spec"]["strategy"] == {"type": "Recreate"}
    hpa = next(d for d in docs if d["kind"] == "HorizontalPodAutoscaler")
    metric = hpa["spec"]["metrics"][0]["external"]["metric"]["name"]
    assert metric in exported
    adapter = yaml.safe_load((DEPLOY / "k8s" / "prometheus-adapter-values.yaml").read_text())
    assert adapter["rules"]["external"][0]["name"]["as"] == metric
    assert hpa["spec"]["maxReplicas"] == 6  # the topic's partitions (compose creates 6)


def test_config_and_playbooks_in_the_configmap_match_deploy_and_load(tmp_path: Path) -> None:
    configmaps = {d["metadata"]["name"]: d for d in _k8s() if d["kind"] == "ConfigMap"}
    toml = configmaps["stormwatch-config"]["data"]["stormwatch.toml"]
    assert toml == (DEPLOY / "stormwatch.toml").read_text()
    from stormwatch.config import load_settings

    (tmp_path / "stormwatch.toml").write_text(toml)
    settings = load_settings(tmp_path / "stormwatch.toml", env={})
    assert settings.playbooks_dir == "/etc/stormwatch/playbooks"
    playbooks = configmaps["stormwatch-playbooks"]["data"]
    for name, text in playbooks.items():
        assert text == (DEPLOY / "playbooks" / name).read_text()
        (tmp_path / name).write_text(text)
    assert check_playbooks(DEPLOY / "playbooks") == []


@pytest.mark.skipif(shutil.which("amtool") is None, reason="amtool not installed")
def test_alertmanager_routes_incidents_and_pipeline_alerts() -> None:
    config = str(DEPLOY / "alertmanager" / "alertmanager.yml")
    out = subprocess.run(["amtool", "check-config", config], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    incident = "alertname=StormwatchIncident brand=acme incident=k severity="
    pipeline = "component=pipeline alertname="
    cases = {
        incident + "critical": "comms-pager,comms-slack",
        incident + "low": "comms-slack",
        pipeline + "StormwatchWorkerDown severity=critical": "ops-pager,ops-slack",
        pipeline + "StormwatchIngestStalled severity=warning": "ops-slack",
    }
    for labels, receivers in cases.items():
        out = subprocess.run(
            ["amtool", "config", "routes", "test", f"--config.file={config}", *labels.split()],
            capture_output=True,
            text=True,
        )
        assert out.stdout.strip() == receivers, (labels, out.stdout, out.stderr)


def test_report_renders_a_readable_png(tmp_path: Path) -> None:
    import matplotlib.image

    from stormwatch.evaluation.report import ReportError, render_report
    from stormwatch.evaluation.scenario import write_jsonl

    alerts = tmp_path / "alerts.jsonl"
    run = run_scenario(alerts)
    comments = tmp_path / "comments.jsonl"
    write_jsonl(run.scenario, comments)
    for kwargs in ({"comments_path": comments}, {}):
        png = render_report(alerts, tmp_path / f"report{len(kwargs)}.png", **kwargs)
        assert png.stat().st_size > 30_000
        pixels = matplotlib.image.imread(png)
        assert pixels.shape[0] > 600 and pixels.shape[1] > 1000
        assert pixels[..., :3].std() > 0.05  # not a blank canvas
    with pytest.raises(ReportError, match="nobody"):
        render_report(alerts, tmp_path / "x.png", brand="nobody")

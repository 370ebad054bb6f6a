"""The deployment files stand on their own: compose works without `deploy/.env`, and the
Kubernetes manifests validate against the Kubernetes API schemas (kubernetes-validate,
strict) with restricted pod security and probes on real endpoints.

No Docker engine runs here, so `docker compose config` cannot: the compose files are
parsed with PyYAML and their variables interpolated the way compose does, with an empty
environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
COMPOSE_FILES = ("compose.yaml", "compose.kafka.yaml")
# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}; $$ escapes
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
BARE = re.compile(r"(?<!\$)\$(?![{$])[A-Za-z_]")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation; a required variable without a value raises ValueError
    with its message, as `docker compose config` fails with it."""

    def one(m: re.Match[str]) -> str:
        name, op, arg = m["name"], m["op"], m["arg"]
        value = env.get(name)
        if op is None:
            if value is None:
                raise ValueError(f"{name} has no default and no :? message")
            return value
        unset = value is None or (op.startswith(":") and value == "")
        if op.endswith("-"):
            return arg if unset else value  # type: ignore[return-value]
        if unset:
            raise ValueError(arg or f"{name} is required")
        return value  # type: ignore[return-value]

    return VARIABLE.sub(one, text)


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_needs_no_env_file(name: str) -> None:
    text = (DEPLOY / name).read_text()
    code = "\n".join(
        line.split(" #")[0] for line in text.splitlines() if not line.lstrip().startswith("#")
    )
    assert not BARE.search(code), "use ${NAME...} so that a default or message can be given"
    for m in VARIABLE.finditer(code):
        assert m["op"] is not None, f"{m[0]}: give a default (:-) or a message (:?)"
        if m["op"].endswith("?"):
            assert len(m["arg"].strip()) > 10, f"{m[0]}: say what to set and where"
    compose = yaml.safe_load(interpolate(code, {}))  # raises like compose would
    assert compose["services"]


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_does_not_take_the_host_postgres_port(name: str) -> None:
    compose = yaml.safe_load(interpolate((DEPLOY / name).read_text(), {}))
    for service, spec in compose["services"].items():
        for port in spec.get("ports", []):
            parts = str(port).split(":")
            host = parts[-2] if len(parts) >= 2 else parts[-1]
            assert host != "5432", f"{name} {service}: host port 5432 belongs to a local PostgreSQL"


def test_compose_creates_only_topics_stormwatch_reads() -> None:
    compose = yaml.safe_load(interpolate((DEPLOY / "compose.yaml").read_text(), {}))
    created = re.findall(r"--topic (\S+)", " ".join(compose["services"]["kafka-topics"]["command"]))
    worker = compose["services"]["worker"]["command"]
    assert created == [worker[worker.index("--topic") + 1]]


def test_interpolation_reports_required_variables() -> None:
    with pytest.raises(ValueError, match="set SLACK_BOT_TOKEN in deploy/.env"):
        interpolate("${SLACK_BOT_TOKEN:?set SLACK_BOT_TOKEN in deploy/.env}", {})
    assert interpolate("${A:-x} ${B-y}", {"B": ""}) == "x "


def _manifests() -> list[tuple[str, dict]]:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    docs = []
    for resource in [*kustomization["resources"], "secret.example.yaml"]:
        for doc in yaml.safe_load_all((DEPLOY / "k8s" / resource).read_text()):
            if doc:
                docs.append((resource, doc))
    return docs


def test_kubernetes_manifests_validate_against_the_api_schemas() -> None:
    import kubernetes_validate

    version = kubernetes_validate.latest_version()
    docs = _manifests()
    assert len(docs) >= 6
    for resource, doc in docs:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{resource} {doc['kind']}/{doc['metadata']['name']}: {exc.message}")


def test_secret_with_placeholders_is_not_applied_by_kustomize() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    assert "secret.yaml" not in kustomization["resources"]
    assert "secret.example.yaml" not in kustomization["resources"]
    assert not (DEPLOY / "k8s" / "secret.yaml").exists()


def test_pods_run_restricted_and_probe_real_endpoints() -> None:
    import urllib.error
    import urllib.request

    from prometheus_client import CollectorRegistry

    from stormwatch.service.exporter import start_metrics_server

    deployments = [d for _, d in _manifests() if d["kind"] == "Deployment"]
    assert len(deployments) == 2
    for d in deployments:
        pod = d["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["capabilities"]["drop"] == ["ALL"]
            mounts = {m["mountPath"] for m in container["volumeMounts"]}
            assert "/tmp" in mounts  # scratch space on a read-only root
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    # The probes' endpoints answer from the app, and readiness can say no.
    server = start_metrics_server(0, CollectorRegistry(), health=lambda: True, ready=lambda: False)
    try:
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=10) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/readyz", timeout=10)
        assert refused.value.code == 503
    finally:
        server.close()

"""deploy/k8s: kustomize manifests, one folder per service; Kafka and PostgreSQL are external."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

EXAMPLE = ".example."
SECRET_KEY = re.compile(r"SECRET|PASSWORD|TOKEN|PRIVATE_KEY|DATABASE_URL")


def _kustomization(folder: Path) -> dict[str, Any]:
    path = folder / "kustomization.yaml"
    assert path.is_file(), f"{path} is missing"
    data = yaml.safe_load(path.read_text())
    assert data["apiVersion"].startswith("kustomize.config.k8s.io/")
    assert data["kind"] == "Kustomization"
    return data


def _reachable(folder: Path) -> set[Path]:
    """Every file the kustomization in ``folder`` uses, through the folders it includes."""
    data = _kustomization(folder)
    files = {folder / "kustomization.yaml"}
    for entry in data.get("resources") or []:
        target = (folder / entry).resolve()
        assert target.exists(), f"{folder}/kustomization.yaml lists {entry!r}, which does not exist"
        files |= _reachable(target) if target.is_dir() else {target}
    for key in ("patches", "configMapGenerator", "secretGenerator", "components"):
        assert not data.get(key), f"{folder}/kustomization.yaml: extend the tests before using {key}"
    return files


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def _container(workload: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    containers = _pod_spec(workload)["containers"]
    if name is None:
        assert len(containers) == 1
        return containers[0]
    return next(c for c in containers if c["name"] == name)


def _resolve_port(container: dict[str, Any], port: int | str) -> int:
    for declared in container.get("ports") or []:
        if port in (declared["containerPort"], declared.get("name")):
            return int(declared["containerPort"])
    raise AssertionError(f"port {port!r} is not a port of container {container['name']}")


def test_every_manifest_parses_and_names_itself(k8s_documents: list[tuple[Path, dict[str, Any]]]) -> None:
    assert k8s_documents
    for path, doc in k8s_documents:
        assert isinstance(doc, dict), path
        assert doc.get("apiVersion"), f"{path}: apiVersion"
        assert doc.get("kind"), f"{path}: kind"
        if doc["kind"] != "Kustomization":
            assert doc.get("metadata", {}).get("name"), f"{path}: metadata.name"
            assert "namespace" not in doc["metadata"], f"{path}: the kustomization sets the namespace"


def test_no_two_objects_share_kind_and_name(k8s_objects: list[dict[str, Any]]) -> None:
    keys = [(o["kind"], o["metadata"]["name"]) for o in k8s_objects]
    assert len(keys) == len(set(keys)), sorted(keys)


def test_kustomization_lists_every_file(k8s_root: Path) -> None:
    """Every manifest is applied by ``kubectl apply -k deploy/k8s``, except the *.example.* files.

    An example (the Secret with placeholder values) is kept out on purpose: applied, it would overwrite
    the real Secret.
    """
    root = _kustomization(k8s_root)
    assert root.get("namespace") == "steadfast"
    reachable = _reachable(k8s_root)
    files = {p.resolve() for p in k8s_root.rglob("*") if p.is_file()}
    examples = {p for p in files if EXAMPLE in p.name}
    assert not (reachable & examples), "an example with placeholders is applied by the kustomization"
    missing = sorted(str(p.relative_to(k8s_root)) for p in files - examples - reachable)
    assert not missing, f"not in any kustomization: {missing}"


def test_future_services_have_a_marked_place(k8s_root: Path, spec_ports: dict[str, int]) -> None:
    text = (k8s_root / "kustomization.yaml").read_text()
    resources = _kustomization(k8s_root).get("resources") or []
    for name in spec_ports:
        if name not in resources:
            assert f"{name} goes here" in text, f"deploy/k8s/kustomization.yaml: mark where {name} goes"


def test_the_namespace_enforces_restricted_pod_security(k8s_object: Callable[..., dict[str, Any]]) -> None:
    labels = k8s_object("Namespace", "steadfast")["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_deployment_probes(service: str, port: int, k8s_object: Callable[..., dict[str, Any]]) -> None:
    container = _container(k8s_object("Deployment", service), service)
    liveness, readiness = container["livenessProbe"], container["readinessProbe"]
    assert liveness["httpGet"]["path"] == "/healthz"
    assert readiness["httpGet"]["path"] == "/readyz"
    startup = container.get("startupProbe")
    if startup:
        assert startup["httpGet"]["path"] == "/healthz"
    for probe in (liveness, readiness, startup):
        if probe:
            assert _resolve_port(container, probe["httpGet"]["port"]) == port
    args = container["args"]
    assert args[0] == "serve"
    assert args[args.index("--port") + 1] == str(port)
    assert args[args.index("--host") + 1] == "0.0.0.0"
    assert "--no-migrate" in args, "the Job migrates, the pods do not"


def test_deployment_shape(service: str, port: int, k8s_object: Callable[..., dict[str, Any]]) -> None:
    deployment = k8s_object("Deployment", service)
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"]["matchLabels"].items() <= spec["template"]["metadata"]["labels"].items()
    assert spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    annotations = spec["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(port)
    container = _container(deployment, service)
    resources = container["resources"]
    assert resources["requests"]["cpu"]
    assert resources["requests"]["memory"]
    assert resources["limits"]["memory"]


@pytest.mark.parametrize(("kind", "suffix"), [("Deployment", ""), ("Job", "-migrate")])
def test_pods_are_locked_down(
    service: str, kind: str, suffix: str, k8s_object: Callable[..., dict[str, Any]], dockerfile: Any
) -> None:
    workload = k8s_object(kind, f"{service}{suffix}")
    pod = _pod_spec(workload)
    assert pod["securityContext"]["runAsNonRoot"] is True
    image_user = next(i for i in reversed(dockerfile.stage(-1)) if i.keyword == "USER").args
    assert str(pod["securityContext"]["runAsUser"]) == image_user.split(":")[0]
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    assert pod.get("automountServiceAccountToken") is False
    mounts = set()
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
        assert container["resources"]["limits"]["memory"]
        mounts |= {m["mountPath"] for m in container.get("volumeMounts") or []}
    assert "/tmp" in mounts, "a writable /tmp with a read-only root filesystem"


@pytest.mark.parametrize(("kind", "suffix"), [("Deployment", ""), ("Job", "-migrate")])
def test_configuration_comes_from_the_configmap_and_secret(
    service: str, kind: str, suffix: str, k8s_object: Callable[..., dict[str, Any]], k8s_root: Path
) -> None:
    container = _pod_spec(k8s_object(kind, f"{service}{suffix}"))["containers"][0]
    sources = container["envFrom"]
    config = [s["configMapRef"]["name"] for s in sources if "configMapRef" in s]
    secrets = [s["secretRef"]["name"] for s in sources if "secretRef" in s]
    assert config == [f"{service}-config"]
    assert secrets == [f"{service}-secrets"]
    k8s_object("ConfigMap", f"{service}-config")
    example = yaml.safe_load((k8s_root / service / "secret.example.yaml").read_text())
    assert example["kind"] == "Secret"
    assert example["metadata"]["name"] == f"{service}-secrets"
    assert not container.get("env"), "every setting in the ConfigMap or the Secret"


def test_configmap_holds_production_settings_and_no_secrets(
    service: str, prefix: str, k8s_object: Callable[..., dict[str, Any]]
) -> None:
    data = k8s_object("ConfigMap", f"{service}-config")["data"]
    assert all(isinstance(v, str) for v in data.values()), "ConfigMap values are strings: quote them"
    assert data[f"{prefix}ENVIRONMENT"] == "production"
    assert data[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"]
    assert int(data[f"{prefix}KAFKA_REPLICATION_FACTOR"]) >= 3, "replicate topics on a real cluster"
    leaked = sorted(k for k in data if SECRET_KEY.search(k))
    assert not leaked, f"secrets belong in the Secret, not the ConfigMap: {leaked}"


def test_secret_example_is_documented_placeholders(service: str, prefix: str, k8s_root: Path) -> None:
    path = k8s_root / service / "secret.example.yaml"
    text = path.read_text()
    assert "EXAMPLE" in text, f"{path}: say that it is an example"
    assert "placeholder" in text.lower(), f"{path}: say that its values are placeholders"
    secret = yaml.safe_load(text)
    values = secret.get("stringData") or {}
    assert f"{prefix}DATABASE_URL" in values
    for key, value in values.items():
        assert "REPLACE_ME" in value, f"{path}: {key} must be an obvious placeholder"
    assert not secret.get("data"), f"{path}: base64 data hides what is in it; use stringData"


def test_migration_job(service: str, k8s_object: Callable[..., dict[str, Any]]) -> None:
    job = k8s_object("Job", f"{service}-migrate")
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migration"
    pod = _pod_spec(job)
    assert pod["restartPolicy"] in {"Never", "OnFailure"}
    assert job["spec"]["backoffLimit"] >= 1
    container = pod["containers"][0]
    assert container["args"] == ["migrate"]
    assert not container.get("command"), "the image's entrypoint is steadfast-<service>"


def test_configuration_is_applied_before_the_migration(
    service: str, k8s_object: Callable[..., dict[str, Any]], k8s_root: Path
) -> None:
    """deploy/README.md applies ``-l 'app.kubernetes.io/component in (config,migration)'`` first."""
    assert (
        k8s_object("ConfigMap", f"{service}-config")["metadata"]["labels"]["app.kubernetes.io/component"]
        == "config"
    )
    example = yaml.safe_load((k8s_root / service / "secret.example.yaml").read_text())
    assert example["metadata"]["labels"]["app.kubernetes.io/component"] == "config"
    readme = (k8s_root.parent / "README.md").read_text()
    assert "app.kubernetes.io/component in (config,migration)" in readme


def test_images_are_consistent(
    service: str,
    k8s_objects: list[dict[str, Any]],
    k8s_root: Path,
    compose_services: dict[str, Any],
) -> None:
    repository = f"steadfast/{service}"
    images = set()
    for obj in k8s_objects:
        if obj["kind"] not in {"Deployment", "Job", "StatefulSet", "DaemonSet", "CronJob"}:
            continue
        template = (
            obj["spec"]["template"]
            if obj["kind"] != "CronJob"
            else obj["spec"]["jobTemplate"]["spec"]["template"]
        )
        containers = template["spec"].get("initContainers", []) + template["spec"]["containers"]
        ours = obj["metadata"]["labels"]["app.kubernetes.io/name"] == service
        for container in containers:
            image = container["image"]
            if ours:
                assert image.startswith(f"{repository}:"), f"{obj['metadata']['name']} runs {image}"
                images.add(image)
            else:
                assert not image.startswith(f"{repository}:"), f"{obj['metadata']['name']} runs {image}"
    assert len(images) == 1, f"every {service} workload runs one image: {sorted(images)}"
    tag = images.pop().split(":", 1)[1]
    assert tag != "latest"
    pinned = [i for i in _kustomization(k8s_root).get("images") or [] if i["name"] == repository]
    assert len(pinned) == 1, f"deploy/k8s/kustomization.yaml: images entry for {repository}"
    assert str(pinned[0]["newTag"]) == tag
    assert compose_services[service]["image"].split(":")[0] == repository


def test_service_routes_to_the_container_port(
    service: str, port: int, k8s_object: Callable[..., dict[str, Any]]
) -> None:
    deployment = k8s_object("Deployment", service)
    svc = k8s_object("Service", service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    (entry,) = svc["spec"]["ports"]
    assert entry["port"] == port
    assert _resolve_port(_container(deployment, service), entry["targetPort"]) == port


def test_disruption_budget_and_autoscaler(service: str, k8s_object: Callable[..., dict[str, Any]]) -> None:
    deployment = k8s_object("Deployment", service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    pdb = k8s_object("PodDisruptionBudget", service)
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["minAvailable"] >= 1
    hpa = k8s_object("HorizontalPodAutoscaler", service)
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": service}
    assert hpa["spec"]["minReplicas"] >= deployment["spec"]["replicas"] >= 2
    assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]
    assert pdb["spec"]["minAvailable"] < hpa["spec"]["minReplicas"], "the PDB must allow a drain"


def test_kustomize_builds(k8s_root: Path, spec_ports: dict[str, int]) -> None:
    assert shutil.which("kubectl"), "kubectl (shipped with the machine image) builds the kustomization"
    result = subprocess.run(
        ["kubectl", "kustomize", str(k8s_root)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    objects = [o for o in yaml.safe_load_all(result.stdout) if o]
    for obj in objects:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == "steadfast", obj["metadata"]["name"]
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "steadfast"
    assert not any(o["kind"] == "Secret" for o in objects), "no Secret with placeholders is applied"

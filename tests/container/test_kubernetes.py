"""deploy/kubernetes: rendered, validated offline against Kubernetes schemas, and run with ``podman kube play``."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import httpx
import pytest
import yaml

from tests.container.conftest import PREFIX, tool, wait_until_healthy
from tests.container.kube import KUSTOMIZE_DIR, PODMAN_UNRESOLVED_FIELDS, Manifest, local_deployment, render
from tests.container.podman import Podman
from tests.servers import free_port

#: The newest schemas kubernetes-validate ships, and an older release still in support.
KUBERNETES_VERSIONS = ("1.37.0", "1.34.0")
GRACEFUL_SHUTDOWN_S = 8
UID = 10001


def deployment_pod_spec() -> Manifest:
    """The pod template's spec of the rendered Deployment."""
    (deployment,) = (obj for obj in render() if obj["kind"] == "Deployment")
    spec: Manifest = deployment["spec"]["template"]["spec"]
    return spec


def test_the_kustomization_holds_deployment_service_hpa_and_pdb() -> None:
    kinds = sorted(obj["kind"] for obj in render())
    assert kinds == ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service"]


async def test_kubectl_kustomize_renders_the_same_objects_where_kubectl_exists() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        # CI machines may lack kubectl; the PyYAML rendering above is then the one checked.
        assert render()
        return
    process = await asyncio.create_subprocess_exec(
        kubectl, "kustomize", str(KUSTOMIZE_DIR), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    by_kind = {obj["kind"]: obj for obj in yaml.safe_load_all(stdout.decode())}
    assert by_kind == {obj["kind"]: obj for obj in render()}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
async def test_manifests_validate_strictly_offline(version: str, tmp_path: Path) -> None:
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(render()))
    process = await asyncio.create_subprocess_exec(
        tool("kubernetes-validate"), "--strict", "-k", version, str(rendered),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    stdout, _ = await asyncio.wait_for(process.communicate(), 120)
    output = stdout.decode()
    assert process.returncode == 0, output
    assert output.count(" passed ") == 4, output


def test_the_pod_is_hardened_and_drains_before_the_server_stops() -> None:
    spec = deployment_pod_spec()
    (container,) = spec["containers"]
    security = container["securityContext"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert {"requests", "limits"} <= set(container["resources"])
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/tmp"}
    pre_stop_s = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert spec["terminationGracePeriodSeconds"] > pre_stop_s + GRACEFUL_SHUTDOWN_S
    for probe in ("livenessProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == "/_echo/health"
    fields = {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]}
    assert fields == {
        "ECHO_POD_NAME": "metadata.name",
        "ECHO_POD_NAMESPACE": "metadata.namespace",
        "ECHO_NODE_NAME": "spec.nodeName",
        "ECHO_POD_IP": "status.podIP",
    }


@pytest.mark.container
async def test_podman_kube_play_runs_the_deployment(podman: Podman, image: str, tmp_path: Path) -> None:
    port = free_port()
    name = f"{PREFIX}-kube"
    kube_file = tmp_path / "deployment.yaml"
    kube_file.write_text(yaml.safe_dump(local_deployment(render(), name=name, image=image, host_port=port)))
    try:
        await podman.run("kube", "play", str(kube_file), timeout_s=120)
        await wait_until_healthy(f"http://127.0.0.1:{port}")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            answer = await client.get("/kube?echo_format=json")
        assert answer.status_code == 200
        document = answer.json()
        assert document["target"] == "/kube?echo_format=json"
        # The Downward API variables reach the echo; podman fills only the pod name from the pod itself.
        assert document["instance"] == {
            "pod_name": f"{name}-pod-0",
            "pod_namespace": PODMAN_UNRESOLVED_FIELDS["metadata.namespace"],
            "node_name": PODMAN_UNRESOLVED_FIELDS["spec.nodeName"],
            "pod_ip": PODMAN_UNRESOLVED_FIELDS["status.podIP"],
        }
        (inspected,) = json.loads((await podman.run("inspect", f"{name}-pod-0-asgi-echo")).stdout)
        assert inspected["HostConfig"]["ReadonlyRootfs"] is True
        assert inspected["Config"]["User"].split(":")[0] == str(UID)
    finally:
        await podman.run("kube", "down", str(kube_file), timeout_s=60, check=False)
    left = await podman.run("pod", "ps", "--quiet", "--filter", f"name={name}")
    assert left.stdout.strip() == ""

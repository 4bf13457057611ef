"""Rendering deploy/kubernetes without kubectl, and the variant of its Deployment that ``podman kube play`` runs.

The kustomization uses only ``resources`` and ``images``; rendering those is concatenation plus an image
rewrite, so CI needs no kubectl. Where kubectl exists the tests check that it renders the same objects.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
KUSTOMIZE_DIR = ROOT / "deploy" / "kubernetes"
SUPPORTED_KEYS = {"apiVersion", "kind", "resources", "images"}
#: podman 4.3's `kube play` resolves only some Downward API fields; the others get a fixed stand-in value.
PODMAN_UNRESOLVED_FIELDS = {"metadata.namespace": "default", "spec.nodeName": "localhost", "status.podIP": "127.0.0.1"}

Manifest = dict[str, Any]


def render(directory: Path = KUSTOMIZE_DIR) -> list[Manifest]:
    """The objects ``kubectl kustomize DIRECTORY`` would print, in the kustomization's resource order.

    Raises:
        ValueError: the kustomization uses a field this renderer does not implement.
    """
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - SUPPORTED_KEYS
    if unknown:
        raise ValueError(f"kustomization fields not rendered here: {sorted(unknown)}")
    objects = [
        document
        for resource in kustomization["resources"]
        for document in yaml.safe_load_all((directory / resource).read_text())
        if document
    ]
    for rule in kustomization.get("images", []):
        for container in _containers(objects):
            name, _, _ = container["image"].partition(":")
            if name == rule["name"]:
                tag = rule.get("newTag", container["image"].partition(":")[2])
                container["image"] = rule.get("newName", name) + (f":{tag}" if tag else "")
    return objects


def _containers(objects: list[Manifest]) -> list[Manifest]:
    return [
        container
        for obj in objects
        if obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet"}
        for container in obj["spec"]["template"]["spec"]["containers"]
    ]


def local_deployment(objects: list[Manifest], *, name: str, image: str, host_port: int) -> Manifest:
    """The Deployment as ``podman kube play`` can run it on one machine.

    One replica with its port published on 127.0.0.1:``host_port``, the locally built ``image``, its own
    ``name``, and fixed values for the Downward API fields podman cannot resolve. Everything else (the
    security context, probes, volumes) is kept as written.
    """
    (deployment,) = (copy.deepcopy(obj) for obj in objects if obj["kind"] == "Deployment")
    deployment["metadata"]["name"] = name
    deployment["spec"]["replicas"] = 1
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    container["image"] = image
    (port,) = container["ports"]
    port.update(hostIP="127.0.0.1", hostPort=host_port)
    for variable in container["env"]:
        field = variable.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        if field in PODMAN_UNRESOLVED_FIELDS:
            del variable["valueFrom"]
            variable["value"] = PODMAN_UNRESOLVED_FIELDS[field]
    return deployment

"""The deployment's memory limit leaves room for everything the server may hold by its own bounds.

limit >= (idle RSS + ECHO_MAX_INFLIGHT_BYTES + the memory-backed /tmp) x 1.25, with the idle RSS taken at the
benchmark's ceiling for it (bench/run.py: "idle RSS, one worker < 60 MiB"). A pod limited below that would be
OOM-killed by load the server itself accepts.
"""

from __future__ import annotations

import re

import yaml

from app.settings import Settings
from tests.servers import ROOT

MIB = 1024 * 1024
IDLE_RSS_CEILING_BYTES = 60 * MIB
HEADROOM = 1.25
UNITS = {"Ki": 1024, "Mi": MIB, "Gi": 1024 * MIB}


def quantity_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity with a binary suffix (``256Mi``) in bytes."""
    match = re.fullmatch(r"(\d+)(Ki|Mi|Gi)", quantity)
    assert match, f"unexpected memory quantity {quantity!r}"
    return int(match.group(1)) * UNITS[match.group(2)]


def test_the_memory_limit_fits_the_servers_own_bounds() -> None:
    deployment = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text())
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    limit = quantity_bytes(container["resources"]["limits"]["memory"])
    memory_volumes = sum(
        quantity_bytes(volume["emptyDir"]["sizeLimit"])
        for volume in pod.get("volumes", [])
        if volume.get("emptyDir", {}).get("medium") == "Memory"
    )
    needed = (IDLE_RSS_CEILING_BYTES + Settings().max_inflight_bytes + memory_volumes) * HEADROOM
    assert limit >= needed, f"limit {limit / MIB:.0f} MiB < {needed / MIB:.0f} MiB"

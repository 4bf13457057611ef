"""Every console example in the README and docs/, run against a real server, its output compared.

A ```` ```console ```` block holds commands (``$ ``, continued by a trailing backslash) each followed by its
output. Each block gets fresh servers started with the README's first command, ``python -m app``. HTML
comments on the lines right before the block set it up:

- ``<!-- example: --http app.server.http2_protocol:EchoAutoZttpProtocol -->``: uvicorn flags for the server on port
  5000;
- ``<!-- example: 5443 --http app.server.http2_protocol:EchoAutoZttpProtocol --ssl-certfile server.pem -->``: one
  more server, on that port;
- ``<!-- example: nginx -->``: nginx in front, configured by the page's ```` ```nginx ```` block;
- ``<!-- example: file slowpost.py -->``: the page's ```` ```python ```` block that starts ``# slowpost.py``.

Commands run in a directory where ``python -m trustme`` has written its files. Ports are mapped to free ones
of the same width, so content lengths do not change; dates, ids, ports, times and the host name are masked.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers import ROOT, RunningServer

pytestmark = pytest.mark.server

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOC_PORT = "5000"
COMMAND_TIMEOUT_S = 30
MASKS = [
    (re.compile(r"(?im)^date: .*$"), "date: <date>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), "<time>"),
    (re.compile(r"(?i)(x-request-id: )\S+"), r"\1<id>"),
    (re.compile(r'("port": )\d+'), r"\1<port>"),
    (re.compile(r'("hostname": )"[^"]*"'), r'\1"<host>"'),
    (re.compile(r'(_ms": )[\d.]+'), r"\1<ms>"),
]


@dataclass
class Example:
    """One console block: where it is, the servers it needs, and its commands with their expected output."""

    page: Path
    line: int
    servers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    steps: list[tuple[str, str]] = field(default_factory=list)
    nginx: str | None = None  # the configuration, when nginx runs in front
    files: dict[str, str] = field(default_factory=dict)  # name -> text, written where the commands run

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def parse_examples(page: Path) -> list[Example]:
    text = page.read_text()
    lines = text.split("\n")
    examples = []
    for index, line in enumerate(lines):
        if line.strip() != "```console":
            continue
        example = Example(page, index + 1, {DOC_PORT: ()})
        above = index - 1
        while above >= 0 and lines[above].startswith("<!-- example:") and lines[above].endswith("-->"):
            _set_up(example, lines[above].removeprefix("<!-- example:").removesuffix("-->").split(), text)
            above -= 1
        body = lines[index + 1 : lines.index("```", index + 1)]
        example.steps = _steps(body)
        examples.append(example)
    return examples


def _set_up(example: Example, words: list[str], page_text: str) -> None:
    if words == ["nginx"]:
        example.nginx = _fenced(page_text, "nginx", "")
    elif words[:1] == ["file"]:
        example.files[words[1]] = _fenced(page_text, "python", f"# {words[1]} ")
    elif words and words[0].isdigit():
        example.servers[words[0]] = tuple(words[1:])
    else:
        example.servers[DOC_PORT] = tuple(words)


def _fenced(page_text: str, language: str, starts_with: str) -> str:
    """The first ```` ```language ```` block of the page whose text starts with ``starts_with``."""
    for block in page_text.split(f"```{language}\n")[1:]:
        content = block.split("\n```", 1)[0]
        if content.startswith(starts_with):
            return content + "\n"
    raise AssertionError(f"no {language} block starting with {starts_with!r}")


def _steps(body: list[str]) -> list[tuple[str, str]]:
    steps: list[tuple[str, str]] = []
    position = 0
    while position < len(body):
        assert body[position].startswith("$ "), f"output before any command: {body[position]!r}"
        command = body[position][2:]
        while command.endswith("\\"):  # the shell reads the backslash-newline as a continuation
            position += 1
            command += "\n" + body[position]
        position += 1
        output = []
        while position < len(body) and not body[position].startswith("$ "):
            output.append(body[position])
            position += 1
        steps.append((command, "\n".join(output)))
    return steps


EXAMPLES = [example for page in PAGES for example in parse_examples(page)]


def free_port_like(doc_port: str) -> str:
    """A free loopback port with as many digits as ``doc_port`` (the echoed Host keeps its length)."""
    low = 10 ** (len(doc_port) - 1)
    for candidate in range(int(doc_port) + 1, low * 10):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return str(candidate)
    raise RuntimeError(f"no free {len(doc_port)}-digit port")


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the examples' commands run: with the files ``python -m trustme`` writes (client.pem, server.pem...)."""
    directory = tmp_path_factory.mktemp("examples")
    subprocess.run([sys.executable, "-m", "trustme"], cwd=directory, check=True, capture_output=True, timeout=60)
    return directory


@pytest.fixture
def servers(request: pytest.FixtureRequest, workdir: Path) -> Iterator[dict[str, str]]:
    """The example's servers (and nginx), started fresh; maps each port the docs name to the port used."""
    example: Example = request.param
    ports: dict[str, str] = {}
    running: list[RunningServer] = []
    proxy: subprocess.Popen[bytes] | None = None
    try:
        for doc_port, options in example.servers.items():
            ports[doc_port] = free_port_like(doc_port)
            files = tuple(str(workdir / word) if (workdir / word).is_file() else word for word in options)
            running.append(RunningServer(files, port=int(ports[doc_port])))
        for name, content in example.files.items():
            (workdir / name).write_text(content)
        if example.nginx is not None:
            proxy = start_nginx(example.nginx, ports, workdir)
        yield ports
    finally:
        if proxy is not None:
            proxy.terminate()
            proxy.wait(timeout=10)
        for server in running:
            server.stop()


def start_nginx(configuration: str, ports: dict[str, str], workdir: Path) -> subprocess.Popen[bytes]:
    """nginx in the foreground with the docs' ``http`` block, its ports mapped; stopped by the caller."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"  # .ci/run installs Debian's nginx
    for doc_port in re.findall(r"listen 127\.0\.0\.1:(\d+)", configuration):
        ports[doc_port] = free_port_like(doc_port)
    conf = workdir / "nginx.conf"
    user = "user root;" if os.geteuid() == 0 else ""  # workers must read the temporary directories here
    conf.write_text(
        f"{user} daemon off; worker_processes 1; pid {workdir}/nginx.pid; error_log {workdir}/nginx.log;\n"
        f"events {{}}\nhttp {{ access_log off; client_body_temp_path {workdir}/nginx-body; "
        f"proxy_temp_path {workdir}/nginx-proxy;\n{map_ports(configuration, ports)}}}\n"
    )
    process = subprocess.Popen([nginx, "-p", str(workdir), "-c", str(conf)], stderr=subprocess.DEVNULL)
    for port in re.findall(r"listen 127\.0\.0\.1:(\d+)", map_ports(configuration, ports)):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", int(port)), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.05)
    return process


def map_ports(text: str, ports: dict[str, str]) -> str:
    """``text`` with each port the docs name (after ``:`` or a space) replaced by the one in use."""
    for doc_port, port in ports.items():
        text = re.sub(rf"(?<=[:\s]){doc_port}\b", port, text)
    return text


def run(command: str, ports: dict[str, str], workdir: Path) -> str:
    command = map_ports(command, ports).replace(".venv/bin/python", sys.executable)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )
    assert not result.stderr, f"{command!r} wrote to stderr: {result.stderr}"
    output = result.stdout
    for doc_port, port in ports.items():
        output = output.replace(f":{port}", f":{doc_port}")
    return output


@pytest.mark.parametrize("servers", EXAMPLES, ids=[example.name for example in EXAMPLES], indirect=True)
def test_console_example(servers: dict[str, str], workdir: Path, request: pytest.FixtureRequest) -> None:
    example: Example = request.node.callspec.params["servers"]
    for command, expected in example.steps:
        assert mask(run(command, servers, workdir)) == mask(expected), command


def test_every_page_with_examples_is_found() -> None:
    pages = {example.page.name for example in EXAMPLES}
    assert {"README.md", "echo-formats.md", "controls.md", "operations.md"} <= pages

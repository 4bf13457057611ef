"""The promises of the README and docs/ that code can check: the commands, the tables, the image's defaults."""

from __future__ import annotations

import re

import httpx

from app.server.defaults import SERVER_ENVIRONMENT
from app.settings import VARIABLES
from bench.servers import image_env
from tests.servers import DOCUMENTED_OPTIONS, ROOT

README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"


def command_after(comment: str) -> str:
    match = re.search(rf"^# {comment}\n(.+)$", README, re.MULTILINE)
    assert match, f"README has no command under '# {comment}'"
    return match.group(1)


def test_run_command_is_the_entry_point_the_server_tests_use() -> None:
    command = command_after("Run the server on port 5000")
    assert command.endswith(".venv/bin/python -m app --port 5000 --reload")  # tests.servers runs python -m app
    assert "pip install -r requirements.txt" in command


def test_test_command_installs_dev_requirements_and_runs_pytest() -> None:
    command = command_after("Run the tests")
    assert "pip install -r requirements-dev.txt" in command
    assert command.endswith("python -m pytest")


def test_the_image_sets_exactly_the_server_defaults() -> None:
    image = {name: value for name, value in image_env().items() if name.startswith("UVICORN_")}
    assert image == SERVER_ENVIRONMENT


def test_the_default_flags_say_what_the_environment_says() -> None:
    assert DOCUMENTED_OPTIONS == (
        "--http", "app.server.protocol:EchoHttpToolsProtocol", "--loop", "app.server.event_loop:TlsBoundedLoop",
        "--no-proxy-headers", "--no-access-log",
        "--timeout-graceful-shutdown", "8", "--limit-concurrency", "1000",
    )  # fmt: skip


async def test_every_json_field_is_documented_and_no_other(client: httpx.AsyncClient) -> None:
    section = page_section("echo-formats.md", "The JSON echo")
    documented = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)
    document = (await client.get("/?echo_format=json")).json()
    assert documented == list(document)


def page_section(page: str, title: str) -> str:
    """The text of the ``## title`` section of ``docs/page``."""
    return (DOCS / page).read_text().split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_setting_is_in_the_configuration_table() -> None:
    code = (ROOT / "app" / "settings.py").read_text()
    read = set(re.findall(r'read\("(ECHO_[A-Z_]+)"|config\("(ECHO_[A-Z_]+)"', code))
    assert {name for pair in read for name in pair if name} == set(VARIABLES)
    rows = [line for line in page_section("configuration.md", "Configuration").splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`(ECHO_[A-Z_]+)`", row.split(" | ")[0])}
    assert documented == set(VARIABLES)


def test_every_control_is_in_the_controls_table() -> None:
    from app.controls.parse import NAMES

    table = page_section("controls.md", "Response controls")
    documented = re.findall(r"^\| `(\w+)` \| `echo_\1`", table, re.MULTILINE)
    assert documented == list(NAMES)


def test_the_docs_list_every_server_default_of_the_image() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    in_image = set(re.findall(r"^\s+(UVICORN_[A-Z_]+=\S+?)\s*\\?$", dockerfile, re.MULTILINE))
    operations = (DOCS / "operations.md").read_text()
    section = operations.split("Server defaults live in uvicorn's", 1)[1].split("\n\n", 1)[0]
    assert in_image
    assert set(re.findall(r"`(UVICORN_[A-Z_]+=[^`]+)`", section)) == in_image

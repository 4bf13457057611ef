"""Request trailer fields on a real server: shown as a trailer section in the text, JSON and raw echoes, never as
header fields; sent by raw sockets and by Node's http module (``addTrailers``)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.rawhttp import exchange
from tests.servers import RunningServer

pytestmark = pytest.mark.server

HEAD = b"POST /tr%s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
CONTENT = b"3\r\nabc\r\n4\r\ndefg\r\n0\r\n"
SECTION = b"X-Checksum:  7ac66c0f \r\nx-count: 2\r\n\r\n"


async def test_text_echo_shows_a_trailers_block_before_the_body(server: RunningServer) -> None:
    response = await exchange(server.port, HEAD % b"" + CONTENT + SECTION)
    assert response.status == 200
    assert response.content.endswith(
        b"Transfer-Encoding: chunked\n\nTRAILERS:\nX-Checksum: 7ac66c0f\nx-count: 2\n\nBODY:\nabcdefg"
    )


async def test_a_request_without_trailer_fields_has_no_trailers_block(server: RunningServer) -> None:
    response = await exchange(server.port, HEAD % b"" + CONTENT + b"\r\n")
    assert b"TRAILERS:" not in response.content
    assert response.content.endswith(b"Transfer-Encoding: chunked\n\nBODY:\nabcdefg")


async def test_json_echo_lists_trailers_as_pairs_apart_from_headers(server: RunningServer) -> None:
    response = await exchange(server.port, HEAD % b"?echo_format=json" + CONTENT + SECTION)
    document = json.loads(response.content)
    assert document["trailers"] == [["X-Checksum", "7ac66c0f"], ["x-count", "2"]]
    assert all(name.lower() != "x-checksum" for name, _ in document["headers"])
    without = json.loads((await exchange(server.port, HEAD % b"?echo_format=json" + CONTENT + b"\r\n")).content)
    assert without["trailers"] == []


async def test_raw_echo_ends_with_the_trailer_section_as_received(server: RunningServer) -> None:
    response = await exchange(server.port, HEAD % b"?echo_format=raw" + CONTENT + SECTION)
    assert response.content == HEAD % b"?echo_format=raw" + b"abcdefg" + SECTION


NODE_UPLOAD = """
const http = require("http");
const request = http.request({host: "127.0.0.1", port: Number(process.argv[1]), method: "POST",
  path: "/upload?echo_format=json", headers: {"Trailer": "X-Checksum"}}, (response) => {
  let body = "";
  response.on("data", (chunk) => { body += chunk; });
  response.on("end", () => { process.stdout.write(body); });
});
request.write("hello ");
request.write("world");
request.addTrailers({"X-Checksum": "sha256-abc"});
request.end();
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node (nodejs in .ci/run)")
def test_node_http_upload_with_add_trailers_shows_them(server: RunningServer) -> None:
    completed = subprocess.run(
        ["node", "-e", NODE_UPLOAD, str(server.port)], capture_output=True, text=True, timeout=30, check=True
    )
    document = json.loads(completed.stdout)
    assert document["trailers"] == [["X-Checksum", "sha256-abc"]]
    assert document["body"]["value"] == "hello world"
    assert document["body"]["chunked"] is True
    assert ["trailer", "X-Checksum"] in document["headers"]

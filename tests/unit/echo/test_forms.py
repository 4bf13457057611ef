"""Form content: urlencoded and multipart, parsed in memory, malformed input named not raised."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from urllib.parse import parse_qsl

import httpx
import pytest

from app.echo.forms import DECODE_WINDOW_BYTES, MAX_FORM_FIELDS, decode_pairs, parse_form

BOUNDARY = "b0undary"


def multipart(*parts: bytes, boundary: str = BOUNDARY, close: bool = True) -> bytes:
    body = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    return body + (b"--" + boundary.encode() + b"--\r\n" if close else b"")


def field_part(name: str, value: bytes) -> bytes:
    return f'Content-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + value


def file_part(name: str, filename: str, content: bytes, content_type: str = "application/octet-stream") -> bytes:
    disposition = f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
    head = f"{disposition}\r\nContent-Type: {content_type}\r\n\r\n"
    return head.encode() + content


@pytest.mark.parametrize(
    ("content", "fields"),
    [
        pytest.param(b"a=1&b=2&a=3", {"a": ["1", "3"], "b": ["2"]}, id="repeated"),
        pytest.param(b"empty=&flag", {"empty": [""], "flag": [""]}, id="blank-values"),
        pytest.param(b"q=hello+world%21", {"q": ["hello world!"]}, id="plus-and-percent"),
        pytest.param(b"bad=%FF%zz", {"bad": ["\ufffd%zz"]}, id="not-utf8"),
        pytest.param(b"", {}, id="empty"),
    ],
)
def test_urlencoded(content: bytes, fields: dict[str, list[str]]) -> None:
    form, error = parse_form("application/x-www-form-urlencoded", {}, content)
    assert error is None
    assert form == {"fields": fields, "files": []}


def test_multipart_fields_and_files_without_file_bytes() -> None:
    payload = bytes(range(256)) * 5000  # 1.2 MiB file part
    content = multipart(
        field_part("a", b"1"),
        file_part("upload", "data.bin", payload),
        field_part("a", "é".encode()),
        field_part("empty", b""),
    )
    form, error = parse_form("multipart/form-data", {"boundary": BOUNDARY}, content)
    assert error is None
    assert form == {
        "fields": {"a": ["1", "é"], "empty": [""]},
        "files": [
            {
                "name": "upload",
                "filename": "data.bin",
                "content_type": "application/octet-stream",
                "size": len(payload),
                "sha256": hashlib.sha256(payload).hexdigest(),
            }
        ],
    }


def test_multipart_with_thousands_of_parts() -> None:
    content = multipart(*(field_part(f"f{i}", b"v") for i in range(3000)))
    form, error = parse_form("multipart/form-data", {"boundary": BOUNDARY}, content)
    assert error is None
    assert form is not None
    assert len(form["fields"]) == 3000


@pytest.mark.parametrize(
    ("params", "content", "reason"),
    [
        pytest.param({}, multipart(field_part("a", b"1")), "without a boundary", id="no-boundary"),
        pytest.param({"boundary": BOUNDARY}, b"garbage without boundary", "malformed multipart", id="garbage"),
        pytest.param(
            {"boundary": BOUNDARY}, multipart(field_part("a", b"1"), close=False)[:-2], "no closing", id="truncated"
        ),
        pytest.param({"boundary": "x" * 300}, b"--", "malformed multipart", id="boundary-too-long"),
    ],
)
def test_malformed_multipart_is_named(params: dict[str, str], content: bytes, reason: str) -> None:
    form, error = parse_form("multipart/form-data", params, content)
    assert form is None
    assert error is not None
    assert reason in error


def test_other_media_types_are_not_forms() -> None:
    assert parse_form("application/json", {}, b"a=1") == (None, None)


async def test_multipart_through_the_app(client: httpx.AsyncClient) -> None:
    payload = b"\xff\x00" * 600_000  # 1.2 MB, not UTF-8
    response = await client.post(
        "/upload?echo_format=json",
        data={"title": "report"},
        files={"file": ("r.bin", payload, "application/x-thing")},
    )
    document = response.json()
    assert document["form_error"] is None
    assert document["form"]["fields"] == {"title": ["report"]}
    assert document["form"]["files"] == [
        {
            "name": "file",
            "filename": "r.bin",
            "content_type": "application/x-thing",
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        }
    ]
    assert document["body"]["encoding"] == "base64"  # the raw content is still echoed


async def test_malformed_form_through_the_app_is_not_a_500(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/?echo_format=json", content=b"--x\r\nbroken", headers={"content-type": "multipart/form-data; boundary=x"}
    )
    assert response.status_code == 200
    assert response.json()["form"] is None
    assert "malformed multipart" in response.json()["form_error"]


@pytest.mark.parametrize(
    ("disposition", "filename"),
    [
        (b'form-data; name="f"; filename="C:\\Windows\\x.ini"', b"C:\\Windows\\x.ini"),
        (b'form-data; name="f"; filename="q\\"uote.txt"', b'q"uote.txt'),
        (b"form-data; filename=plain.txt; name=f", b"plain.txt"),
        (b'form-data; name="f"', b""),
    ],
)
def test_filename_is_kept_as_sent(disposition: bytes, filename: bytes) -> None:
    from app.echo.forms import filename_as_sent

    assert filename_as_sent(disposition) == filename


def test_too_many_urlencoded_fields_are_reported_not_parsed() -> None:
    from app.echo.forms import MAX_FORM_FIELDS

    form, error = parse_form("application/x-www-form-urlencoded", {}, b"a&" * (MAX_FORM_FIELDS + 1))
    assert form is None
    assert error == f"more than {MAX_FORM_FIELDS} fields or parts: not parsed"
    at_limit, error = parse_form("application/x-www-form-urlencoded", {}, b"&".join([b"a"] * MAX_FORM_FIELDS))
    assert error is None
    assert at_limit is not None
    assert len(at_limit["fields"]["a"]) == MAX_FORM_FIELDS


def test_too_many_multipart_parts_are_reported_not_parsed() -> None:
    from app.echo.forms import MAX_FORM_FIELDS

    content = multipart(*(field_part("f", b"v") for _ in range(MAX_FORM_FIELDS + 1)))
    form, error = parse_form("multipart/form-data", {"boundary": BOUNDARY}, content)
    assert form is None
    assert error is not None
    assert "more than 10000" in error


@pytest.mark.parametrize(
    "query",
    [b"a=1", b"a=1&&b", b"=x&y=", b"a==b&c=d=e", b"&", b"a;b=c", b"x=%41", b"p+q=1", b"caf\xc3\xa9=1", b"k=\xff"],
)
def test_query_pairs_match_the_standard_library(query: bytes) -> None:
    # Plain ASCII queries take a shortcut past parse_qsl: it must split exactly as parse_qsl does.
    expected = [
        (name.encode("latin-1").decode("utf-8", "replace"), value.encode("latin-1").decode("utf-8", "replace"))
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    ]
    assert decode_pairs(query) == expected


def _stdlib_pairs(data: bytes) -> list[tuple[str, str]]:
    pairs = parse_qsl(data.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    return [
        (n.encode("latin-1").decode("utf-8", "replace"), v.encode("latin-1").decode("utf-8", "replace"))
        for n, v in pairs
    ]


@pytest.mark.parametrize("shift", range(4))
@pytest.mark.parametrize("escape", [b"%41", b"%C3%A9", b"%zz", b"%", b"%4", b"+"])
def test_windowed_decoding_matches_the_standard_library_across_window_edges(shift: int, escape: bytes) -> None:
    # Escapes laid over the 64 KiB window edge at every offset: none may be split or lost.
    value = b"x" * (DECODE_WINDOW_BYTES - 2 - shift) + escape * 8 + b"y" * 10
    content = b"a=" + value + b"&b=%41" + escape
    assert decode_pairs(content, MAX_FORM_FIELDS) == _stdlib_pairs(content)


def test_malformed_multipart_writes_nothing_to_the_server_log() -> None:
    # In a fresh interpreter, as the server runs: pytest's own log handlers would hide Python's bare
    # last-resort output here. The reason belongs in form_error, not in a stray log line per request.
    script = (
        "from app.echo.forms import parse_form; "
        "print(parse_form('multipart/form-data', {'boundary': 'XX'}, bytes([255, 254, 0]) + b'garbage')[1])"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.startswith("malformed multipart content: Expected boundary character")
    assert done.stderr == ""


def test_multipart_of_exactly_the_part_limit_is_parsed() -> None:
    from app.echo.forms import MAX_FORM_FIELDS

    content = multipart(*(field_part("f", b"v") for _ in range(MAX_FORM_FIELDS)))
    form, error = parse_form("multipart/form-data", {"boundary": BOUNDARY}, content)
    assert error is None
    assert form is not None
    assert len(form["fields"]["f"]) == MAX_FORM_FIELDS


def test_a_file_part_with_boundary_lookalikes_is_measured_whole() -> None:
    content = b"ab\r\n--b0und\r\n\r\ncd\r" * 100  # partial boundaries: data, not the end of the part
    disposition = b'Content-Disposition: form-data; name="f"; filename="a.bin"\r\n\r\n'
    form, error = parse_form("multipart/form-data", {"boundary": BOUNDARY}, multipart(disposition + content))
    assert error is None
    assert form is not None
    assert form["files"] == [
        {
            "name": "f",
            "filename": "a.bin",
            "content_type": None,
            "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(),
        }
    ]


def test_a_part_without_disposition_or_with_invalid_utf8_is_kept() -> None:
    latin1_name = b'Content-Disposition: form-data; name="n\xe9"\r\n\r\nv\xff'
    content = multipart(b"\r\nno-disposition", latin1_name)
    form, error = parse_form("multipart/form-data", {"boundary": BOUNDARY}, content)
    assert error is None
    assert form is not None
    assert form["fields"] == {"": ["no-disposition"], "n\ufffd": ["v\ufffd"]}


@pytest.mark.parametrize(
    ("params", "content", "reason"),
    [
        pytest.param({}, b"", "multipart/form-data without a boundary parameter", id="no-boundary"),
        pytest.param(
            {"boundary": BOUNDARY},
            multipart(field_part("a", b"1"), close=False),
            "malformed multipart content: no closing boundary",
            id="not-closed",
        ),
    ],
)
def test_malformed_multipart_reasons_are_whole(params: dict[str, str], content: bytes, reason: str) -> None:
    assert parse_form("multipart/form-data", params, content) == (None, reason)


def test_a_filename_in_invalid_utf8_is_kept_with_replacement_characters() -> None:
    disposition = b'Content-Disposition: form-data; name="f"; filename="a\xff.bin"\r\n\r\n'
    form, error = parse_form("multipart/form-data", {"boundary": BOUNDARY}, multipart(disposition + b"x"))
    assert error is None
    assert form is not None
    assert form["files"][0]["filename"] == "a\ufffd.bin"

"""An earlier revision as an extra contestant: ``python bench/run.py --baseline REV``.

Its tree is exported with ``git archive`` (the working tree is never touched), installed in a throwaway venv
on the dependencies it pinned (its own ``requirements-dev.txt``) and compiled there as shipped
(``bench.shipped``). It is served with its own ``--http`` protocol and ``--loop`` and the current run's other flags,
so the two differ only in code and pins. Everything lives in one temporary directory, removed on exit.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.servers import ROOT, Server, uvicorn
from bench.shipped import build

#: The ``--http`` pair of a revision whose ``tests/servers.py`` names no DOCUMENTED_OPTIONS.
FALLBACK_OPTIONS = ("--http", "app.protocol:EchoHttpToolsProtocol", "--no-proxy-headers", "--no-access-log")
#: Flags whose values name this project's modules: the baseline takes them from its own revision.
OWN_FLAGS = ("--http", "--loop")
INSTALL_TIMEOUT_S = 1800  # pip with a warm cache takes about a minute; a cold one downloads everything
_READ_OPTIONS = (
    "import json, tests.servers as servers; print(json.dumps(list(getattr(servers, 'DOCUMENTED_OPTIONS', []))))"
)
_READ_VERSION = "import sys; from importlib.metadata import version; print(version(sys.argv[1]))"


@dataclass(frozen=True)
class Baseline:
    """A revision built as shipped, with the interpreter and the uvicorn options to serve it."""

    rev: str
    commit: str
    project: Path
    python: Path
    options: tuple[str, ...]
    uvicorn_version: str

    @property
    def contestant(self) -> str:
        """Its row's name in the tables."""
        return f"asgi-echo at {self.rev}, access log off"

    def server(self) -> Server:
        """``uvicorn app.main:app`` from the revision's build, on its venv, with the access log off."""
        return uvicorn(
            self.contestant, "app.main:app", self.options, {"ECHO_ACCESS_LOG": "false"}, self.project, self.python
        )


@contextmanager
def prepared(rev: str, current_options: tuple[str, ...]) -> Iterator[Baseline]:
    """The revision built in a new temporary directory, removed on exit whatever happens.

    Raises ``RuntimeError`` (or ``subprocess.SubprocessError`` on a timeout) when a step fails.
    """
    parent = Path(tempfile.mkdtemp(prefix="asgi-echo-baseline-"))
    try:
        yield _prepare(rev, current_options, parent)
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def _prepare(rev: str, current_options: tuple[str, ...], parent: Path) -> Baseline:
    commit = resolve(rev)
    source = export(commit, parent / "source")
    _progress(f"installing {rev}'s requirements-dev.txt in a throwaway venv ...")
    python = make_venv(parent / "venv", source / "requirements-dev.txt")
    _progress(f"compiling {rev} as shipped (its setup.py, its mypyc) ...")
    project = build(parent / "project", source=source, python=python)
    options = (*without_own(current_options), *own_pairs(documented_options(python, source)))
    return Baseline(rev, commit, project, python, options, _run(str(python), "-c", _READ_VERSION, "uvicorn").strip())


def resolve(rev: str) -> str:
    """The commit ``rev`` names, as a full hash; ``RuntimeError`` when it names none."""
    return _run("git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").strip()


def export(commit: str, destination: Path) -> Path:
    """``git -C ROOT archive COMMIT | tar -x -C DESTINATION``: the committed tree, nothing of the working tree."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=False)
    _check(archive.returncode, archive.stderr.decode(errors="replace"), f"git archive {commit}")
    destination.mkdir()
    tar = subprocess.run(["tar", "-x", "-C", str(destination)], input=archive.stdout, capture_output=True, check=False)
    _check(tar.returncode, tar.stderr.decode(errors="replace"), "tar -x")
    return destination


def make_venv(venv: Path, requirements: Path) -> Path:
    """A new venv with ``requirements`` installed; returns its python."""
    _run(sys.executable, "-m", "venv", str(venv))
    python = venv / "bin" / "python"
    _run(str(python), "-m", "pip", "install", "-q", "-r", str(requirements))
    return python


def documented_options(python: Path, source: Path) -> tuple[str, ...]:
    """The revision's ``tests.servers.DOCUMENTED_OPTIONS`` (imported by its own python), or the fallback."""
    if not (source / "tests" / "servers.py").exists():
        return FALLBACK_OPTIONS
    options: list[str] = json.loads(_run(str(python), "-c", _READ_OPTIONS, cwd=source))
    return tuple(options) or FALLBACK_OPTIONS


def own_pairs(revision_options: tuple[str, ...]) -> tuple[str, ...]:
    """The options that name this project's modules (``--http`` and ``--loop`` values), as the revision sets them:
    its ``--http`` (the fallback's when it names none) and its ``--loop`` (uvicorn's ``auto`` when it names none)."""
    http = option_value(revision_options, "--http") or option_value(FALLBACK_OPTIONS, "--http")
    assert http is not None
    return ("--http", http, "--loop", option_value(revision_options, "--loop") or "auto")


def option_value(options: tuple[str, ...], flag: str) -> str | None:
    """The value after ``flag`` in ``options``, or None."""
    return options[options.index(flag) + 1] if flag in options else None


def without_own(options: tuple[str, ...]) -> tuple[str, ...]:
    """``options`` less their ``--http VALUE`` and ``--loop VALUE`` pairs (an earlier revision may lack the modules)."""
    kept: list[str] = []
    skip = False
    for option in options:
        if skip:
            skip = False
        elif option in OWN_FLAGS:
            skip = True
        else:
            kept.append(option)
    return tuple(kept)


def _run(*argv: str, cwd: Path | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT_S)
    _check(done.returncode, done.stdout + done.stderr, shlex.join(argv))
    return done.stdout


def _check(returncode: int, output: str, what: str) -> None:
    if returncode != 0:
        tail = "\n".join(output.splitlines()[-20:])
        raise RuntimeError(f"baseline: `{what}` failed with exit code {returncode}:\n{tail}")


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)

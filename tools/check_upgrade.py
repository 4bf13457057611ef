"""What breaks if uvicorn and Starlette move to their newest published releases?

Reads the pins of ``uvicorn`` and ``starlette`` from ``requirements.txt``, asks the package index for the
newest release of each (``pip index versions``), builds a throwaway virtual environment with
``requirements-dev.txt`` and then those two releases over it, and runs the test suite there (all but
``tests/container``). Prints pinned against newest, the test counts and each failed or errored test with
the first line of its message. Exit status 0 when the suite passes on the newest releases, 1 otherwise.

Usage: ``python -m tools.check_upgrade [--keep-venv DIR] [-- extra pytest arguments]``

``--keep-venv DIR`` installs into ``DIR`` (created if missing, reused if present) and keeps it, to read the
new releases' source afterwards. pip's output is shown only when an install fails.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("uvicorn", "starlette")
EXTRAS = {"uvicorn": "[standard]"}  # installed as requirements.txt pins it, with the same extra
PYTEST_ARGS = ("-q", "-p", "no:cacheprovider", "--ignore=tests/container", "-rfE")
_PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*([^\s;#]+)")
_INDEX_LINE = re.compile(r"^(\S+) \((\S+)\)$")


@dataclass
class Outcome:
    """What the junit report says: counts per outcome, and ``(kind, test id, first line)`` per problem."""

    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def normalize(name: str) -> str:
    """A distribution name as the index compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned_versions(requirements: Path) -> dict[str, str]:
    """``name -> version`` for each ``name==version`` line (extras dropped) of a requirements file."""
    pins: dict[str, str] = {}
    for line in requirements.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line)
        if match:
            pins[normalize(match[1])] = match[2]
    return pins


def run(
    command: Sequence[str | Path], *, merge_output: bool = False, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run our interpreter or the venv's from the project root, output captured (stderr into stdout when merged)."""
    arguments = [str(part) for part in command]
    stderr = subprocess.STDOUT if merge_output else subprocess.PIPE
    # The programs are our own interpreter and the venv's, given by full path; the arguments are ours.
    return subprocess.run(arguments, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True, check=False)  # noqa: S603


def newest_version(name: str) -> str:
    """The newest published release of ``name``, from the first ``NAME (X.Y.Z)`` line of ``pip index versions``."""
    result = run([sys.executable, "-m", "pip", "index", "versions", name])
    for line in result.stdout.splitlines():
        match = _INDEX_LINE.match(line.strip())
        if match and normalize(match[1]) == normalize(name):
            return match[2]
    sys.exit(f"pip index versions {name} gave no version (exit {result.returncode}):\n{result.stderr.strip()}")


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def make_venv(venv: Path) -> Path:
    """Create (or reuse) a virtual environment at ``venv``; returns its interpreter."""
    result = run([sys.executable, "-m", "venv", venv])
    if result.returncode != 0:
        sys.exit(f"could not create a virtual environment in {venv}:\n{result.stdout}{result.stderr}")
    return venv_python(venv)


def pip_install(python: Path, arguments: Sequence[str]) -> None:
    """``pip install`` into the venv; its output is printed only when it fails (then the script stops)."""
    command: list[str | Path] = [python, "-m", "pip", "install", "--disable-pip-version-check", *arguments]
    result = run(command, merge_output=True)
    if result.returncode != 0:
        print(result.stdout, file=sys.stderr)
        sys.exit(f"pip install {' '.join(arguments)} failed with exit status {result.returncode}")


def run_suite(python: Path, report: Path, extra: Sequence[str]) -> subprocess.CompletedProcess[str]:
    """The test suite from the project root in the venv, as if it were activated (tests find its tools first)."""
    environment = dict(os.environ, VIRTUAL_ENV=str(python.parent.parent))
    environment["PATH"] = os.pathsep.join([str(python.parent), environment.get("PATH", "")])
    command: list[str | Path] = [python, "-m", "pytest", *PYTEST_ARGS, f"--junitxml={report}", *extra]
    return run(command, merge_output=True, env=environment)


def node_id(classname: str, name: str) -> str:
    """pytest's node id back from junit's dotted ``classname``: the longest prefix that is a file of the project."""
    parts = classname.split(".") if classname else []
    for end in range(len(parts), 0, -1):
        path = Path(*parts[:end]).with_suffix(".py")
        if (ROOT / path).is_file():
            return "::".join([path.as_posix(), *parts[end:], name])
    return ".".join([*parts, name])  # a collection error names the module in ``name`` alone


def first_line(problem: ET.Element) -> str:
    """The first non-empty line of a failure's message, or of its text when the message is empty."""
    for text in (problem.get("message") or "", problem.text or ""):
        for line in text.splitlines():
            if line.strip():
                return line.strip()[:200]
    return ""


def read_report(report: Path) -> Outcome:
    """Counts and problems per ``testcase`` of a junit report (a test failing in call and teardown is two)."""
    outcome = Outcome()
    for case in ET.parse(report).getroot().iter("testcase"):  # noqa: S314  # our own pytest's report
        problems = [child for child in case if child.tag in ("failure", "error")]
        for problem in problems:
            kind = "FAILED" if problem.tag == "failure" else "ERROR"
            test = node_id(case.get("classname", ""), case.get("name", ""))
            outcome.problems.append((kind, test, first_line(problem)))
        if any(problem.tag == "failure" for problem in problems):
            outcome.failed += 1
        elif problems:
            outcome.errored += 1
        elif case.find("skipped") is not None:
            outcome.skipped += 1
        else:
            outcome.passed += 1
    return outcome


def print_versions(pinned: dict[str, str], newest: dict[str, str]) -> None:
    for name in PACKAGES:
        if pinned[name] == newest[name]:
            print(f"{name:<10} {pinned[name]} (already newest)")
        else:
            print(f"{name:<10} {pinned[name]} -> {newest[name]}")


def print_outcome(outcome: Outcome, newest: dict[str, str]) -> None:
    releases = ", ".join(f"{name} {newest[name]}" for name in PACKAGES)
    print(
        f"\nTest suite on {releases}: {outcome.passed} passed, {outcome.failed} failed, "
        f"{outcome.errored} errored, {outcome.skipped} skipped"
    )
    for kind, test, message in outcome.problems:
        print(f"{kind} {test} - {message}" if message else f"{kind} {test}")


def check(venv: Path, report: Path, pinned: dict[str, str], newest: dict[str, str], extra: Sequence[str]) -> int:
    """Install the newest releases over the pinned development set in ``venv``, run the suite, print the outcome."""
    python = make_venv(venv)
    print(f"\nInstalling requirements-dev.txt, then {', '.join(f'{n}=={newest[n]}' for n in PACKAGES)} in {venv}")
    pip_install(python, ["-r", "requirements-dev.txt"])
    pip_install(python, ["--upgrade", *(f"{name}{EXTRAS.get(name, '')}=={newest[name]}" for name in PACKAGES)])
    print("Running the test suite (about a minute)")
    result = run_suite(python, report, extra)
    if not report.is_file():  # pytest stopped before writing its report: its own words say why
        print(result.stdout, file=sys.stderr)
        print(f"pytest wrote no report (exit status {result.returncode})", file=sys.stderr)
        return 1
    outcome = read_report(report)
    print_outcome(outcome, newest)
    passed = result.returncode == 0 and not outcome.problems
    print(f"\nThe suite {'passes' if passed else 'does not pass'} on the newest releases.")
    return 0 if passed else 1


def parse_arguments(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Our options, and what follows ``--`` for pytest."""
    argv = list(argv)
    own, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(
        prog="python -m tools.check_upgrade",
        description=__doc__.split("\n\n")[0],
        epilog="Arguments after -- go to pytest.",
    )
    parser.add_argument("--keep-venv", type=Path, metavar="DIR", help="install into DIR and keep it")
    return parser.parse_args(own), extra


def main(argv: Sequence[str] | None = None) -> int:
    arguments, extra = parse_arguments(sys.argv[1:] if argv is None else argv)
    pins = pinned_versions(ROOT / "requirements.txt")
    missing = [name for name in PACKAGES if name not in pins]
    if missing:
        sys.exit(f"requirements.txt pins no {', '.join(missing)} (name==version)")
    pinned = {name: pins[name] for name in PACKAGES}
    newest = {name: newest_version(name) for name in PACKAGES}
    print_versions(pinned, newest)
    with tempfile.TemporaryDirectory(prefix="check-upgrade-") as scratch:
        venv = arguments.keep_venv.resolve() if arguments.keep_venv else Path(scratch, "venv")
        return check(venv, Path(scratch, "report.xml"), pinned, newest, extra)


if __name__ == "__main__":
    sys.exit(main())

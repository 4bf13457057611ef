"""WebSocket conformance: ``python bench/autobahn.py`` runs the Autobahn|Testsuite fuzzingclient against the server.

``wstest`` (PyPI ``autobahntestsuite``) runs on Python 2.7 only: a throwaway virtualenv is made with a Python 2.7
interpreter (``--python2``; default: pyenv's newest 2.7) by ``virtualenv`` 20.21.1 (the last that makes 2.7
environments), both installed from the pins in ``bench/autobahn-constraints.txt``. The server is started as the
README says (``python -m app``) on a free loopback port; every case runs (compression included, ``--cases`` picks
some, e.g. ``7.1.5,6.4.*``). Prints the count per outcome, every case not OK and the server's ERROR or traceback
lines; exits 0 when no case failed, 1 when one did, 2 when the run itself could not be made. A full run took 11
to 25 minutes on two cores shared with other jobs. Figures go to docs/websocket-conformance.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `python bench/autobahn.py` from anywhere

from tests.servers import FORBIDDEN_LOG_WORDS, RunningServer

HERE = Path(__file__).resolve().parent
CONSTRAINTS = HERE / "autobahn-constraints.txt"
SUITE = "autobahntestsuite==0.8.2"
VIRTUALENV = "virtualenv==20.21.1"
AGENT = "asgi-echo"
RUN_TIMEOUT_S = 40 * 60
INSTALL_TIMEOUT_S = 10 * 60
OUTCOMES = ("OK", "NON-STRICT", "INFORMATIONAL", "UNIMPLEMENTED", "FAILED")


def default_python2() -> Path | None:
    """The newest ``python2.7`` under pyenv's versions, if any."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(versions.glob("2.7*/bin/python2.7"))
    return found[-1] if found else None


def install_wstest(workdir: Path, python2: Path) -> Path:
    """A Python 2.7 virtualenv under ``workdir`` with the pinned suite; returns its ``wstest``."""
    tools = workdir / "tools"
    pip_quiet = ["--quiet", "--disable-pip-version-check"]
    subprocess.run([sys.executable, "-m", "venv", str(tools)], check=True, timeout=INSTALL_TIMEOUT_S)
    subprocess.run(
        [tools / "bin" / "pip", "install", *pip_quiet, "-c", CONSTRAINTS, VIRTUALENV],
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    py27 = workdir / "py27"
    subprocess.run(
        [tools / "bin" / "virtualenv", "--quiet", "-p", python2, py27], check=True, timeout=INSTALL_TIMEOUT_S
    )
    subprocess.run(
        [py27 / "bin" / "pip", "install", *pip_quiet, "--no-python-version-warning", "-c", CONSTRAINTS, SUITE],
        check=True,
        timeout=INSTALL_TIMEOUT_S,
    )
    return py27 / "bin" / "wstest"


def run_suite(wstest: Path, workdir: Path, port: int, cases: list[str]) -> dict[str, dict[str, str]]:
    """Run the fuzzingclient against ``ws://127.0.0.1:port/``; returns each case's result from ``index.json``."""
    reports = workdir / "reports"
    spec = {
        "outdir": str(reports),
        "servers": [{"agent": AGENT, "url": f"ws://127.0.0.1:{port}/autobahn"}],
        "cases": cases,
        "exclude-cases": [],
        "exclude-agent-cases": {},
    }
    spec_path = workdir / "fuzzingclient.json"
    spec_path.write_text(json.dumps(spec))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}  # cryptography's Python 2 deprecation, once per import
    subprocess.run(
        [wstest, "-m", "fuzzingclient", "-s", spec_path],
        cwd=workdir,
        env=env,
        check=True,
        timeout=RUN_TIMEOUT_S,
        stdout=subprocess.DEVNULL,
    )
    index: dict[str, dict[str, dict[str, str]]] = json.loads((reports / "index.json").read_text())
    return index[AGENT]


def case_key(case_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in case_id.split("."))


def summarize(results: dict[str, dict[str, str]], server_log: list[str]) -> str:
    """The count per outcome (Autobahn's ``behavior``), then every case not OK, then the server's bad lines."""
    counts = Counter(result["behavior"] for result in results.values())
    lines = [f"Autobahn|Testsuite fuzzingclient ({SUITE}), {len(results)} cases", ""]
    lines += ["| outcome | cases |", "|---|---|"]
    lines += [f"| {outcome} | {counts.get(outcome, 0)} |" for outcome in OUTCOMES]
    lines += [f"| {outcome} | {count} |" for outcome, count in sorted(counts.items()) if outcome not in OUTCOMES]
    not_ok = sorted((case for case, result in results.items() if result["behavior"] != "OK"), key=case_key)
    if not_ok:
        lines += ["", "| case | outcome | close outcome |", "|---|---|---|"]
        lines += [f"| {case} | {results[case]['behavior']} | {results[case]['behaviorClose']} |" for case in not_ok]
    bad = [line for line in server_log if any(word in line for word in FORBIDDEN_LOG_WORDS)]
    utf8_lines = [line for line in server_log if "invalid UTF-8" in line]
    lines += ["", f"server log: {len(server_log)} lines, {len(bad)} with ERROR or Traceback, {len(utf8_lines)} on 1007"]
    lines += [f"  {line}" for line in bad[:20]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Install, run, print; see the module docstring for the exit codes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--python2", type=Path, default=default_python2(), help="a Python 2.7 interpreter")
    parser.add_argument("--cases", default="*", help="comma-separated case ids or patterns (default: all)")
    parser.add_argument("--keep", type=Path, help="copy the HTML and JSON reports to this folder")
    arguments = parser.parse_args(argv)
    if arguments.python2 is None or not arguments.python2.exists():
        print("no Python 2.7 found: give one with --python2", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="autobahn-") as temporary:
        workdir = Path(temporary)
        try:
            wstest = install_wstest(workdir, arguments.python2)
        except (subprocess.SubprocessError, OSError) as error:
            print(f"could not install {SUITE}: {error}", file=sys.stderr)
            return 2
        server = RunningServer(("--host", "127.0.0.1"))
        try:
            results = run_suite(wstest, workdir, server.port, arguments.cases.split(","))
        except (subprocess.SubprocessError, OSError, KeyError, ValueError) as error:
            print(f"the fuzzingclient did not finish: {error}", file=sys.stderr)
            return 2
        finally:
            server.stop()
        if arguments.keep is not None:
            subprocess.run(["cp", "-r", str(workdir / "reports"), str(arguments.keep)], check=True)
    print(summarize(results, server.log))
    return 1 if any(result["behavior"] == "FAILED" for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())

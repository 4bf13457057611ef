"""The project as the image ships it: a copy whose hot-path modules (``setup.py``) are compiled with mypyc.

``python -m bench.shipped DIR`` builds one (about 15 s; it needs a C compiler and the dev requirements).
The benchmark serves asgi-echo and the floors from such a copy, so "as shipped" means compiled, as in
the image; CI runs the test suite and the hostile checks in one. The checkout itself is never compiled
in place: its source stays what Python runs (``uvicorn --reload``, ``python -m pytest``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.servers import ROOT

#: Not copied: version control, virtual environments, caches, build output and earlier compiled modules.
_LEFT_OUT = (".git", ".venv", "venv", "build", "out", "__pycache__", "*.so", ".*_cache", ".hypothesis")


def build(destination: Path, source: Path = ROOT, python: Path | str = sys.executable) -> Path:
    """Copy ``source`` (default: the checkout) to ``destination`` (which must not exist) and compile its
    ``setup.py``'s modules there with ``python`` (default: this interpreter; the build serves only under it).

    Returns ``destination``. Raises ``RuntimeError`` with the compiler's last lines when the build fails.
    """
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns(*_LEFT_OUT))
    result = subprocess.run(
        [str(python), "setup.py", "build_ext", "--inplace"],
        cwd=destination,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
        raise RuntimeError(f"compiling the shipped build failed:\n{tail}")
    shutil.rmtree(destination / "build", ignore_errors=True)  # the C sources and objects; the modules stay
    return destination


def temporary_build() -> Path:
    """A shipped build in a new temporary directory; the caller removes its parent. Raises as ``build``."""
    parent = Path(tempfile.mkdtemp(prefix="asgi-echo-shipped-"))
    try:
        return build(parent / "project")
    except BaseException:
        shutil.rmtree(parent, ignore_errors=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.shipped DIR``: build there and print the path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("destination", type=Path, help="a directory that does not exist yet")
    args = parser.parse_args(argv)
    if args.destination.exists():
        print(f"{args.destination} exists: name a directory that does not", file=sys.stderr)
        return 2
    try:
        print(build(args.destination))
    except RuntimeError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

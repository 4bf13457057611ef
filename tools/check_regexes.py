"""Check every compiled regular expression of ``app`` for catastrophic backtracking (ReDoS).

Imports each module of the package and hands each module-level ``re.Pattern`` to recheck, the
analyser behind PyPI's ``redos-linter``. Patterns built from f-strings are checked as compiled, which a
scan of the source cannot do. Before that, one known exponential pattern must be found vulnerable, so a
broken checker cannot pass silently. Exit status 1 when any pattern is not proven safe.

Usage: ``python -m tools.check_regexes``
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys

import redos_linter
from redos_linter import RecheckResult, RegexInfoWithFile

import app

#: The shape of the media-type freeze (hardening issue, item 1): whitespace on both sides of an optional part.
KNOWN_EXPONENTIAL = r"[a-z]+/[a-z]+(?:[ \t]*;[ \t]*(?:[a-z]+=[a-z]+)?)*"


def compiled_patterns() -> list[tuple[str, str]]:
    """``(where, pattern source)`` for each module-level compiled pattern in ``app``; bytes read as Latin-1."""
    found: list[tuple[str, str]] = []
    for module_info in pkgutil.walk_packages(app.__path__, prefix="app."):
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and getattr(module, "__name__", "") == module_info.name:
                source = value.pattern.decode("latin-1") if isinstance(value.pattern, bytes) else value.pattern
                found.append((f"{module_info.name}.{name}", source))
    return found


def check(patterns: list[tuple[str, str]]) -> list[RecheckResult]:
    """recheck's verdict for each pattern, in order: ``status`` is safe, vulnerable or unknown."""
    items = [
        RegexInfoWithFile(regex=source, filePath=where, line=0, col=0, source_lines=[]) for where, source in patterns
    ]
    results = redos_linter.check_regexes_with_deno(items)
    if results is None or len(results) != len(items):
        sys.exit("the ReDoS checker gave no answer")
    return results


def main() -> int:
    patterns = compiled_patterns()
    known, *verdicts = check([("known exponential pattern", KNOWN_EXPONENTIAL), *patterns])
    if known["status"] != "vulnerable":
        print(f"the checker did not find the known exponential pattern vulnerable ({known['status']})")
        return 1
    unsafe = [verdict for verdict in verdicts if verdict["status"] != "safe"]
    for verdict in unsafe:
        attack = str((verdict.get("attack") or {}).get("string", ""))
        print(f"{verdict['status'].upper()}: {verdict['filePath']}: {verdict['regex']!r} attack: {attack[:80]!r}")
    print(f"{len(verdicts) - len(unsafe)} of {len(verdicts)} compiled patterns in app/ are safe from ReDoS")
    return 1 if unsafe else 0


if __name__ == "__main__":
    sys.exit(main())

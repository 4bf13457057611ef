"""The shipped build: the modules every request runs through are compiled to C extensions with mypyc.

``pip install --no-deps .`` after ``requirements.txt`` builds them (the image does); ``python -m bench.shipped
DIR`` builds a copy of the project the same way for the benchmark and CI. The source stays plain Python, and
Python runs it as it is wherever nothing was built: ``uvicorn --reload`` and ``python -m pytest`` in a checkout.
"""

#: The hot path, as module names under ``app/``. Compiled, a POST of 16 KiB costs about 25 µs instead of 34 µs
#: (the app under the shipped protocol over a fake transport, in process; bench/RESULTS.md has the ratios under
#: load). Modules whose functions or classes Starlette and uvicorn inspect or subclass (main, ops.service,
#: server.protocol, echo.websocket) stay interpreted, and so do the cold ones.
COMPILED_MODULES = (
    "ops.observe",
    "echo.head",
    "echo.endpoints",
    "echo.body",
    "echo.render",
    "echo.responses",
    "ops.metrics",
    "server.wire",
    "controls.negotiation",
    "controls.parse",
    "ops.cors",
    "server.coalesce",
    "echo.fallback",
    "echo.client_source",
)

if __name__ == "__main__":  # as pip's build backend and `python setup.py` run it; tests import the list
    from typing import cast

    from mypyc.build import mypycify
    from setuptools import Extension, setup

    extensions = mypycify([f"app/{name.replace('.', '/')}.py" for name in COMPILED_MODULES], group_name="asgi_echo")
    # mypycify builds setuptools' Extension once setuptools is imported (mypyc.build imports it itself); its
    # annotation for Python 3.11 also admits distutils' own, which setup() is not typed to take.
    setup(ext_modules=cast("list[Extension]", extensions))

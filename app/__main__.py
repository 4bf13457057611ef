"""``python -m app`` / ``asgi-echo``: uvicorn as the image runs it, the defaults set as ``UVICORN_*`` variables."""

from __future__ import annotations

import os
import sys

import uvicorn.main

from app.server.defaults import SERVER_ENVIRONMENT


def main(argv: list[str] | None = None) -> None:
    """Run uvicorn on ``app.main:app`` with ``argv`` (default: this process's arguments) as its flags."""
    for name, value in SERVER_ENVIRONMENT.items():
        os.environ.setdefault(name, value)  # a variable the user set wins, as a flag does
    arguments = sys.argv[1:] if argv is None else argv
    uvicorn.main.main(args=["app.main:app", *arguments], prog_name="python -m app")


if __name__ == "__main__":
    main()

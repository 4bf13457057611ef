"""Finding the app's settings through wrappers: a bounded walk, so a cycle of ``.app`` cannot hang startup."""

from __future__ import annotations

import pytest

from app.server.limits import settings_of
from app.settings import Settings

SETTINGS = Settings(max_header_bytes=2048)


class Wrapper:
    """A middleware stand-in: ``.app`` is what it wraps; ``.settings`` only where given."""

    def __init__(self, app: object = None, settings: Settings | None = None) -> None:
        self.app = app
        if settings is not None:
            self.settings = settings


def chain_with_settings_at(depth: int, length: int) -> object:
    """``length`` wrappers, the outermost at depth 0; the one at ``depth`` holds ``SETTINGS``."""
    app: object = None
    for level in reversed(range(length)):
        app = Wrapper(app, SETTINGS if level == depth else None)
    return app


@pytest.mark.parametrize(
    ("depth", "found"),
    [
        pytest.param(0, True, id="the-app-itself"),
        pytest.param(15, True, id="sixteenth-object-is-the-last-looked-at"),
        pytest.param(16, False, id="seventeenth-is-past-the-bound"),
    ],
)
def test_the_walk_looks_at_sixteen_objects(depth: int, found: bool) -> None:
    assert (settings_of(chain_with_settings_at(depth, 20)) is SETTINGS) is found


class Cycle:
    """An app that wraps itself; ``.app`` counts the steps and fails the test past 100 instead of hanging it."""

    def __init__(self) -> None:
        self.steps = 0

    @property
    def app(self) -> Cycle:
        self.steps += 1
        assert self.steps <= 100, "the walk through .app is unbounded"
        return self


def test_a_cycle_of_app_ends_after_sixteen_steps() -> None:
    cycle = Cycle()
    assert settings_of(cycle) is None
    assert cycle.steps == 16

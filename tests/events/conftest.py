"""Outbound webhook tests: the real HTTP receiver and the Synchroteam sandbox fixtures."""

from tests.dispatch.conftest import dispatch, mirrored  # noqa: F401 - shared fixtures
from tests.events.receiver import receiver  # noqa: F401 - shared fixture

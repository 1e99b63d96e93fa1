"""Fixtures of the hardening tests: the seeded world and the local fake Kakao servers."""

import pytest

from tests.hardening.seed import World, seed_world


@pytest.fixture
def world(db, settings) -> World:
    settings.PAYMENT_PROVIDER = "sandbox"
    return seed_world()

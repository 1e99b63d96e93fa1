"""Fixtures of the hardening tests: the seeded world and the local fake Kakao servers."""

import pytest

from accounts.tests.conftest import kakao, kakao_unreachable  # noqa: F401
from payments.tests.fixtures import kakaopay_fixture, sandbox_fixture  # noqa: F401
from tests.hardening.seed import World, seed_world


@pytest.fixture
def world(db, settings) -> World:
    settings.PAYMENT_PROVIDER = "sandbox"
    return seed_world()

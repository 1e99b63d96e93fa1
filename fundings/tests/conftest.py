"""Helpers for the fundings tests: contributions (tests/factories.py) and stored files."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import credited_contribution


@pytest.fixture
def contribute():
    """credited_contribution(funding, contributor, amount, ...): see tests/factories.py."""
    return credited_contribution


def stored_files() -> list[str]:
    """Every file under this test's MEDIA_ROOT, relative to it."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

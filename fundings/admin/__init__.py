"""Admin for fundings, contributions and payouts; one module per part."""

from fundings.admin import fundings, payouts  # noqa: F401

from payments.tests.fixtures import (  # noqa: F401
    kakaopay_fixture,
    sandbox_fixture,
    short_timeout_fixture,
)

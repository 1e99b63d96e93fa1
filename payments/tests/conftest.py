from payments.tests.fixtures import (  # noqa: F401
    kakaopay_fails_fixture,
    kakaopay_fixture,
    sandbox_fixture,
)

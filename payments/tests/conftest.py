from payments.tests.fixtures import kakaopay_fixture, sandbox_fixture  # noqa: F401

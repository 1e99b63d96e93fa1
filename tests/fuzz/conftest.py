"""The fuzzing stage: schemathesis needs a few things the rest of the suite does not.

- Its tests are marked `fuzz`, which the default run leaves out (pyproject's addopts);
  .ci/stage-fuzz runs them with `-m fuzz`.
- A compatibility shim for hypothesis-jsonschema (used by schemathesis to generate bodies):
  it drives `hypothesis.internal.conjecture.utils.many` through `more()`, which the locked
  Hypothesis replaced by a context manager that is iterated. The shim restores `more()` on
  top of the new protocol, exactly as the old loop used it. Without it every object schema
  with optional properties fails to generate (AttributeError). Remove it once the lock
  pairs versions that agree.
"""

from __future__ import annotations

from hypothesis.internal.conjecture import utils as conjecture_utils

from accounts.tests.conftest import kakao  # noqa: F401 - the local Kakao Login server


def _legacy_more(self) -> bool:
    """`while elements.more(): ...` on top of `with many(...) as e: for _ in e: ...`."""
    steps = getattr(self, "_legacy_steps", None)
    if steps is None:
        self.__enter__()
        steps = self._legacy_steps = iter(self)
    try:
        next(steps)
    except StopIteration:
        self.__exit__(None, None, None)
        return False
    return True


if not hasattr(conjecture_utils.many, "more"):
    conjecture_utils.many.more = _legacy_more

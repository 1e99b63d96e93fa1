"""The fuzzing stage: schemathesis needs a few things the rest of the suite does not.

- Its tests are marked `fuzz`, which the default run leaves out (pyproject's addopts);
  .ci/stage-fuzz runs them with `-m fuzz`.
"""

from __future__ import annotations

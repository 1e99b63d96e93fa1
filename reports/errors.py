"""What can go wrong with reports, in the domain's words (kinds of funsun.api.errors)."""

from funsun.api.errors import StateConflict


class DuplicateReport(StateConflict):
    """The reporter already has an open report of this target."""

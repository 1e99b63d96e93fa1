"""Money into and out of fundings: crediting payments, refunds, cancellation."""

from fundings.models import Funding
from funsun.api.errors import Conflict


def cancel_funding(*, funding: Funding) -> Funding:
    """Cancel a funding that holds contributions, refunding each one.

    Refunds need the payments provider; until they are wired, a funding with
    contributions cannot be deleted.
    """
    raise Conflict("This funding has contributions and cannot be deleted yet.")

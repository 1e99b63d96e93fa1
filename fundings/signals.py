"""Domain events that fundings announces to the apps above it (notifications).

fundings may not import those apps; they listen instead. Every signal is sent inside the
transaction of the service that decided the event (when it has one), after the event's rows
are written: what a receiver writes commits with the event or not at all, so nothing is lost
between a commit and a receiver, and nothing is left by a change that rolled back. Hence
receivers keep their failures to themselves (a savepoint, then log), never call the outside
world before the commit (`transaction.on_commit`, background jobs), and are quick: the
event's locks are held while they run. Receivers must be idempotent: a replayed job or a
repeated request may send the same event again. All are sent with `sender=<the model
class>` and keyword arguments only:

`funding_opened(funding_id)`            a funding was created.
`contribution_credited(contribution)` a payment was credited to a funding: the Contribution
                                        row, its `funding` loaded (at least `author_id`).
`funding_achieved(funding_id)`          a credit reached the goal exactly.
`review_posted(funding_id)`             the author wrote (or rewrote) the thank-you review.
`contribution_refunded(contribution_id)` the provider confirmed the refund of a contribution
                                        the contributor took back.
`funding_canceled(funding_id, contribution_ids)` the funding was canceled; the listed
                                        contributions were taken back and their refunds
                                        decided (the money is on its way back).
`payout_transferred(payout_id)`         an operator recorded the transfer to the author.
"""

from django.dispatch import Signal

funding_opened = Signal()
contribution_credited = Signal()
funding_achieved = Signal()
review_posted = Signal()
contribution_refunded = Signal()
funding_canceled = Signal()
payout_transferred = Signal()

"""Split by part of the domain: fundings (feeds, edits), remit (contributions), payouts."""

"""Admin for fundings, contributions and payouts; one module per part."""

"""Demo data for a local server (`manage.py seed_demo`, run by `make run`).

`builders` holds the plain functions that create rows the way the services leave them;
tests/factories.py builds on the same functions, so demo data and test data are made alike.
`data` describes the demo world (accounts, follows, fundings, money, a report, a payout).
"""

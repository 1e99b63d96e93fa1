"""Load the demo data when its accounts are missing, and print how to sign in."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, connection

from demo.data import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_accounts_present, load_demo_data

REFUSED = (
    "Refusing to load demo data: DEBUG is off and the database is {vendor}, which looks like "
    "production. The demo accounts share a published password, so they must never exist "
    "there. For a local database, set DEBUG=true, or run `manage.py seed_demo --force`."
)


class Command(BaseCommand):
    help = (
        "Create the demo accounts (one fixed, published password), follows, fundings, money, "
        "a payout request and a report, unless the demo accounts exist already; other "
        "accounts do not matter. For local databases only: refused when DEBUG is off and the "
        "database is not SQLite (a production setup), unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even with DEBUG off on a server database (a local PostgreSQL, say).",
        )

    def handle(self, *args, **options):
        if not (settings.DEBUG or connection.vendor == "sqlite" or options["force"]):
            raise CommandError(REFUSED.format(vendor=connection.vendor))
        if demo_accounts_present():
            self.stdout.write("Demo data already loaded.")
        else:
            try:
                load_demo_data()
            except IntegrityError as error:
                raise CommandError(
                    "Demo data not loaded: an account already uses one of the demo emails "
                    f"({', '.join(a.email for a in DEMO_ACCOUNTS)}). ({error})"
                ) from error
            self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self.stdout.write(f"Demo accounts (password {DEMO_PASSWORD}, for this local server only):")
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.email:<22} {account.username}")

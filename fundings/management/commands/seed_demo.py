"""Load demo data into an empty database and print how to sign in."""

from django.core.management.base import BaseCommand

from accounts.demo import DEMO_PASSWORD, create_demo_accounts
from accounts.models import Account


class Command(BaseCommand):
    help = "Create demo accounts, follows and fundings when the database has no accounts."

    def handle(self, *args, **options):
        if Account.objects.exists():
            self.stdout.write("Database already has accounts; demo data not loaded.")
            return
        accounts = create_demo_accounts()
        try:
            from fundings.demo import create_demo_fundings
        except ImportError:
            create_demo_fundings = None
        if create_demo_fundings:
            create_demo_fundings(accounts)
        self.stdout.write(self.style.SUCCESS("Demo data loaded. Sign in with:"))
        for account in accounts.values():
            self.stdout.write(f"  {account.email}  /  {DEMO_PASSWORD}   ({account.username})")
        self.stdout.write("  POST /account/login with email and password returns a token.")

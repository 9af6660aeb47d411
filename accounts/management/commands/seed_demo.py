"""``manage.py seed_demo``: demo accounts for every role, with known passwords. Idempotent."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.test.utils import override_settings

from accounts import services, two_factor
from accounts.models import TOTPDevice, User
from accounts.roles import Role
from consent.demo import demo_likenesses_seed
from generation.demo import demo_activity_seed

#: Demo password shared by every demo account; printed on start by `make run`. Never used outside the demo.
DEMO_PASSWORD = "sigillo-demo-2026"  # noqa: S105 - a published demo password
#: The demo's moderators and administrators sign in in two steps (accounts/two_factor.py): their
#: authenticator key, published like the password; `manage.py demo_code` prints its current code.
DEMO_TOTP_SECRET = "SIGILLODEMOSECRETFORTHEDEMOONLYX"  # noqa: S105 - a published demo secret

DEMO_USERS: tuple[tuple[str, str, tuple[Role, ...]], ...] = (
    ("admin", "Ada Admin", (Role.ADMIN, Role.MODERATOR)),
    ("moderator", "Mo Derator", (Role.MODERATOR,)),
    ("creator", "Cleo Creator", (Role.CREATOR,)),
    ("rights", "Rita Rights-Holder", (Role.RIGHTS_HOLDER, Role.CREATOR)),
    ("estate", "Ed Estate", (Role.ESTATE_REPRESENTATIVE,)),
)


class Command(BaseCommand):
    help = "Create the demo accounts (one per role) and print how to sign in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--quiet-table", action="store_true", help="Do not print the accounts table.")
        parser.add_argument("--no-likenesses", action="store_true", help="Only the accounts, no demo likenesses.")

    def handle(self, *args: Any, quiet_table: bool = False, no_likenesses: bool = False, **options: Any) -> None:
        for username, display_name, roles in DEMO_USERS:
            if not User.objects.filter(username=username).exists():
                services.user_register(
                    username=username,
                    password=DEMO_PASSWORD,
                    display_name=display_name,
                    roles=roles,
                    operator=True,
                )
        for username, _, _ in DEMO_USERS:
            user = User.objects.get(username=username)
            if two_factor.is_staff_account(user) and not TOTPDevice.objects.filter(user=user).exists():
                two_factor.totp_device_set(user=user, secret=DEMO_TOTP_SECRET)
        likenesses = [] if no_likenesses else demo_likenesses_seed()
        # The demo is seeded before any worker runs (make run starts them after): its checks run here.
        with override_settings(SIGILLO_GATE_EXECUTION="inline"):
            activity = [] if no_likenesses else demo_activity_seed()
        if quiet_table:
            return
        self.stdout.write("Demo accounts (password for all: %s)" % DEMO_PASSWORD)
        for username, display_name, roles in DEMO_USERS:
            self.stdout.write("  %-10s %-20s %s" % (username, display_name, ", ".join(role.label for role in roles)))
        self.stdout.write(
            "Moderators and administrators also type a code after the password: add the key %s to an "
            "authenticator app (time-based, 6 digits), or run `python manage.py demo_code` for the current one."
            % DEMO_TOTP_SECRET
        )
        if likenesses:
            self.stdout.write("Demo likenesses:")
            for line in likenesses:
                self.stdout.write("  " + line)
        if activity:
            self.stdout.write("Demo activity:")
            for line in activity:
                self.stdout.write("  " + line)

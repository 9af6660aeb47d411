"""``manage.py create_user alice --role rights_holder --role creator``: make a user with roles."""

import getpass
import os
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts import services
from accounts.roles import Role


class Command(BaseCommand):
    help = "Create a user with one or more roles (creator, rights_holder, estate_representative, moderator, admin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role", action="append", choices=Role.values, dest="roles", help="Repeat for several roles."
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--password-env",
            default="SIGILLO_NEW_USER_PASSWORD",
            help="Read the password from this environment variable (else ask on the terminal).",
        )

    def handle(
        self,
        *args: Any,
        username: str,
        roles: list[str] | None,
        email: str,
        display_name: str,
        password_env: str,
        **options: Any,
    ) -> None:
        password = os.environ.get(password_env) or getpass.getpass("Password for %s: " % username)
        try:
            user = services.user_register(
                username=username,
                password=password,
                email=email,
                display_name=display_name,
                roles=roles or [Role.CREATOR],
                operator=True,  # whoever runs manage.py operates the installation
            )
        except ValidationError as error:
            raise CommandError(
                "; ".join("%s: %s" % (field, " ".join(msgs)) for field, msgs in error.message_dict.items())
            ) from error
        self.stdout.write(
            self.style.SUCCESS("Created %s with roles: %s" % (user.username, ", ".join(sorted(user.role_set))))
        )

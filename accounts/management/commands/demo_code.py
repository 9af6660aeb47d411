"""``manage.py demo_code``: the current two-factor code of the demo's moderators and administrators.

The demo's key is published (``seed_demo``), so this tells nothing that was not public: it spares
someone trying the demo an authenticator app. It cannot make a code for any other account.
"""

import time
from typing import Any

from django.core.management.base import BaseCommand

from accounts import totp
from accounts.management.commands.seed_demo import DEMO_TOTP_SECRET


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo's moderator and admin accounts (make run's demo only)."

    def handle(self, *args: Any, **options: Any) -> None:
        now = time.time()
        step = totp.step_at(now)
        seconds = totp.STEP_SECONDS - int(now) % totp.STEP_SECONDS
        self.stdout.write(
            "%s  (valid for about %d s more; each code signs an account in once)"
            % (totp.code_at(DEMO_TOTP_SECRET, step), seconds + totp.STEP_SECONDS * totp.WINDOW)
        )

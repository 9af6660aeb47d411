"""Development settings: what `make run` uses."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# A development key only; production settings refuse to start without DJANGO_SECRET_KEY.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="django-insecure-local-development-only-key")

if not SIGILLO_BIOMETRIC_KEYS:  # noqa: F405
    from consent.crypto import derive_key

    SIGILLO_BIOMETRIC_KEYS = [derive_key(SECRET_KEY)]

if not SIGILLO_AUDIT_KEY:  # noqa: F405
    from moderation.audit_key import derive_audit_key

    SIGILLO_AUDIT_KEY = derive_audit_key(SECRET_KEY)

SIGILLO_C2PA_DEV_CERTIFICATE = env.bool("SIGILLO_C2PA_DEV_CERTIFICATE", default=True)

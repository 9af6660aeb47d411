"""The roles of SPEC section 1. A user may hold several."""

from django.db import models


class Role(models.TextChoices):
    CREATOR = "creator", "Creator"
    RIGHTS_HOLDER = "rights_holder", "Rights holder"
    ESTATE_REPRESENTATIVE = "estate_representative", "Estate representative"
    MODERATOR = "moderator", "Moderator"
    ADMIN = "admin", "Administrator"
    INTEGRATOR = "integrator", "Integrator (gate as a service)"


#: Roles anyone may take when registering; the others are granted by an administrator.
SELF_SERVICE_ROLES = frozenset({Role.CREATOR, Role.RIGHTS_HOLDER, Role.ESTATE_REPRESENTATIVE})
#: Roles that only an administrator may grant.
ADMIN_GRANTED_ROLES = frozenset({Role.MODERATOR, Role.ADMIN, Role.INTEGRATOR})
DEFAULT_ROLE = Role.CREATOR

"""Write operations of the likeness registry. Every interface (API, web, admin, commands, tasks)
calls these; each is one transaction that also writes its audit row.

``likenesses`` registers and erases, ``consents`` versions consent and answers requests,
``reviews`` holds what moderators and the live check decide, ``protected`` the entries nobody may
generate.
"""

from consent.services.consents import (
    consent_request_decide,
    consent_request_open,
    consent_revoke,
    consent_set,
)
from consent.services.likenesses import (
    NAME_FILLER_WORDS,
    NAME_MIN_LETTERS,
    EnrollmentResult,
    ReembedReport,
    faces_reembed,
    likeness_add_photos,
    likeness_enroll,
    likeness_erase,
    likeness_update,
    name_problem,
)
from consent.services.protected import (
    CSV_COLUMNS,
    CsvImportRejected,
    CsvRowError,
    likeness_register_protected,
    protected_entries_import_csv,
)
from consent.services.reviews import (
    FROZEN_NOTE,
    SUSPENSION_NOTE_MAX_LENGTH,
    dispute_decide,
    dispute_transfer,
    estate_claim_decide,
    estates_activate,
    likeness_lift_suspension,
    likeness_mark_verified,
    likeness_suspend,
    likeness_verify,
    liveness_required,
)

__all__ = [
    "CSV_COLUMNS",
    "CsvImportRejected",
    "CsvRowError",
    "EnrollmentResult",
    "FROZEN_NOTE",
    "NAME_FILLER_WORDS",
    "NAME_MIN_LETTERS",
    "ReembedReport",
    "SUSPENSION_NOTE_MAX_LENGTH",
    "consent_request_decide",
    "consent_request_open",
    "consent_revoke",
    "consent_set",
    "dispute_decide",
    "dispute_transfer",
    "estate_claim_decide",
    "estates_activate",
    "faces_reembed",
    "likeness_add_photos",
    "likeness_enroll",
    "likeness_erase",
    "likeness_lift_suspension",
    "likeness_mark_verified",
    "likeness_register_protected",
    "likeness_suspend",
    "likeness_update",
    "likeness_verify",
    "liveness_required",
    "name_problem",
    "protected_entries_import_csv",
]

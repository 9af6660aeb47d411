"""What the likeness registry tells other apps; the generation app connects its receivers in ``ready()``.

Each is sent by the consent service that made the change, with ids only: a receiver reads what it
needs itself. Those said to be sent after commit are sent from ``transaction.on_commit``.
"""

from django.dispatch import Signal

#: Sent after commit, with ``request_id``, when the rights holder answers a consent request.
consent_answered = Signal()

#: Sent after commit, with ``likeness_id``, when faces were enrolled for a likeness or it became active.
faces_enrolled = Signal()

#: Sent inside the erasing transaction, with ``likeness_id``, when a likeness's biometric data is
#: erased: what a receiver forgets goes (or stays) with the erasure.
biometrics_erased = Signal()

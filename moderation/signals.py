"""What moderation tells other apps; the generation app connects its receivers in ``ready()``."""

from django.dispatch import Signal

#: Sent after commit, with ``decision_id``, ``kind`` (a ``Decision.Kind``) and ``verdict`` (the
#: ``Verdict`` that now holds), when a moderator approves or rejects a gate review.
review_decided = Signal()

"""What a Decision says to the person reading it (issue 15; SPEC section 2's reasons).

A Decision is stored whole: the moderators' queue, a flag's evidence and the audit trail read
every name, id and score. Everyone else reads it through this module. A registered person the
reader may not know (``consent.access.likeness_ids_known_to``: not a moderator, not the person
or their estate, not a protected public figure, not in the audience of the consent in force) is
"a registered person":

- a prompt, face or output reason about them keeps its code, verdict, stage, score, prompt span
  and face box, and loses the name, likeness id and status;
- the consent stage's reasons about them become one that says they have not consented
  (``no_consent``, which says nothing of why: suspended, disputed, revoked, unverified...); for
  a cameo asked for by id, exactly the reason a cameo id nobody has gets;
- a disputed duplicate of a face or name says only that someone claimed it: it is left out;
- a face's matches keep the distance and the outcome, and lose the name, id and status.

The verdict, the gate's and the final one, never changes.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from moderation.reasons import ReasonCode, Verdict

#: What a reason about a person the reader may not know keeps.
KEPT = (
    "code", "verdict", "stage", "detail", "score", "span", "method", "file", "frame", "time", "box", "track",
    "frames", "times",
)  # fmt: skip

#: Its words, by (stage, code); anything else reads ``SOMEONE``.
ANONYMOUS_DETAIL = {
    ("names", ReasonCode.REGISTERED_NAME): "The prompt names a registered person.",
    ("descriptors", ReasonCode.REGISTERED_DESCRIPTOR): "The prompt describes a registered person.",
    ("media", ReasonCode.REGISTERED_FACE): "A registered person's face.",
    ("media", ReasonCode.FACE_NEAR_MATCH): "A face close to a registered person, but not close enough to be sure.",
    ("output", ReasonCode.REGISTERED_FACE): (
        "a face in the output matches a registered person who is not a consented cameo of this request"
    ),
    ("output", ReasonCode.FACE_NEAR_MATCH): (
        "a face in the output is close to a registered person who is not a consented cameo of this request"
    ),
    ("output", ReasonCode.USE_NOT_ALLOWED): (
        "a registered person appears in sexual content, and their consent does not allow adult use"
    ),
}
SOMEONE = "A registered person."
NOT_CONSENTED = "A registered person who has not consented to this request."
#: The consent stage's words when the reasons about a person the reader may not know do not block
#: (their consent changed since the check, the reader since becoming a stranger to them).
CONSENT_DETAIL = {
    Verdict.REVIEW: "A registered person: a person must look at this request.",
    Verdict.ALLOW: "A registered person whose consent allows this request.",
}
DUPLICATE_DETAIL = "A disputed registration of a face or name another registered person holds; theirs governs."


@dataclass(frozen=True)
class Reader:
    """Whom a Decision is read by: everything is shown (a moderator), or the likenesses in ``known``."""

    everything: bool
    known: frozenset[str]

    def knows(self, likeness_id: Any) -> bool:
        return self.everything or (likeness_id is not None and str(likeness_id) in self.known)


def likeness_ids_in(reasons: Iterable[dict[str, Any]], media: Iterable[dict[str, Any]]) -> set[str]:
    """Every likeness id ``reasons`` and ``media`` (their faces' matches) point at."""
    found: set[str] = set()

    def add(item: dict[str, Any]) -> None:
        for key in ("likeness_id", "duplicate_of"):
            if item.get(key):
                found.add(str(item[key]))
        found.update(str(other) for other in item.get("ambiguous_with") or ())

    for reason in reasons:
        add(reason)
    for item in media:
        for face in item.get("faces") or ():
            for hit in [face.get("best"), *(face.get("hits") or ())]:
                if hit:
                    add(hit)
    return found


def reader_for(viewer: Any, reasons: Iterable[dict[str, Any]], media: Iterable[dict[str, Any]] = ()) -> Reader:
    """The ``Reader`` of these reasons and media for ``viewer`` (None: nobody in particular)."""
    from consent.access import is_moderator, likeness_ids_known_to

    if viewer is not None and is_moderator(viewer) and viewer.is_active:
        return Reader(everything=True, known=frozenset())
    return Reader(everything=False, known=frozenset(likeness_ids_known_to(viewer, likeness_ids_in(reasons, media))))


def reasons_disclosed(reader: Reader, reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``reasons`` as ``reader`` may read them (the module's docstring says how)."""
    if reader.everything:
        return list(reasons)
    # A reason, or (in its place) the id of a person whose consent reasons become one, at the first of them.
    disclosed: list[dict[str, Any] | str] = []
    hidden_consent: dict[str, list[dict[str, Any]]] = {}
    for reason in reasons:
        likeness_id = reason.get("likeness_id")
        if likeness_id is None or reader.knows(likeness_id):
            disclosed.append(_related_disclosed(reader, reason))
        elif reason.get("code") == ReasonCode.CAMEO_UNAVAILABLE:
            disclosed.append(dict(reason))  # the id the asker sent, and words that say nothing of anyone
        elif reason.get("code") == ReasonCode.DISPUTED_DUPLICATE:
            continue
        elif reason.get("stage") == "consent":
            key = str(likeness_id)
            if key not in hidden_consent:
                hidden_consent[key] = []
                disclosed.append(key)
            hidden_consent[key].append(reason)
        else:
            disclosed.append(_anonymous(reason))
    return [_consent_anonymous(item, hidden_consent[item]) if isinstance(item, str) else item for item in disclosed]


def _related_disclosed(reader: Reader, reason: dict[str, Any]) -> dict[str, Any]:
    """A reason about someone the reader knows, without the others it points at that they do not."""
    reason = dict(reason)
    if reason.get("duplicate_of") and not reader.knows(reason["duplicate_of"]):
        del reason["duplicate_of"]
        reason["detail"] = DUPLICATE_DETAIL
    if reason.get("ambiguous_with"):
        reason["ambiguous_with"] = [other for other in reason["ambiguous_with"] if reader.knows(other)]
    return reason


def _anonymous(reason: dict[str, Any]) -> dict[str, Any]:
    kept = {key: reason[key] for key in KEPT if key in reason}
    kept["detail"] = ANONYMOUS_DETAIL.get((reason.get("stage"), reason.get("code")), SOMEONE)
    return kept


def _consent_anonymous(likeness_id: str, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    """The one consent reason about a person the reader may not know (the strictest verdict of theirs)."""
    from moderation.gate import CAMEO_UNAVAILABLE_DETAIL

    strictest = max(reasons, key=lambda reason: Verdict(reason["verdict"]).severity)
    verdict = Verdict(strictest["verdict"])
    found_by = reasons[0].get("found_by")
    if verdict == Verdict.BLOCK and found_by == "cameo":
        # Word for word what a cameo id nobody has gets (moderation/gate.py, _consent_stage).
        return {
            "code": ReasonCode.CAMEO_UNAVAILABLE.value,
            "verdict": verdict.value,
            "stage": "consent",
            "detail": CAMEO_UNAVAILABLE_DETAIL,
            "likeness_id": likeness_id,
        }
    if verdict == Verdict.BLOCK:
        code, detail = ReasonCode.NO_CONSENT.value, NOT_CONSENTED
    else:
        code, detail = strictest["code"], CONSENT_DETAIL[verdict]
    anonymous = {"code": code, "verdict": verdict.value, "stage": "consent", "detail": detail}
    if found_by:
        anonymous["found_by"] = found_by
    return anonymous


def media_disclosed(reader: Reader, media: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``media`` (files checked, faces found) as ``reader`` may read it: matches of people they may not know anonymous."""
    if reader.everything:
        return list(media)
    disclosed = []
    for item in media:
        if "faces" in item:
            item = {**item, "faces": [_face_disclosed(reader, face) for face in item["faces"]]}
        disclosed.append(item)
    return disclosed


def _face_disclosed(reader: Reader, face: dict[str, Any]) -> dict[str, Any]:
    face = dict(face)
    if face.get("best"):
        face["best"] = _hit_disclosed(reader, face["best"])
    if "hits" in face:
        face["hits"] = [_hit_disclosed(reader, hit) for hit in face["hits"]]
    return face


def _hit_disclosed(reader: Reader, hit: dict[str, Any]) -> dict[str, Any]:
    if not reader.knows(hit.get("likeness_id")):
        return {
            "likeness_id": None,
            "display_name": None,
            "status": None,
            "distance": hit.get("distance"),
            "outcome": hit.get("outcome"),
        }
    hit = dict(hit)
    if hit.get("duplicate_of") and not reader.knows(hit["duplicate_of"]):
        del hit["duplicate_of"]
    if hit.get("ambiguous_with"):
        hit["ambiguous_with"] = [other for other in hit["ambiguous_with"] if reader.knows(other)]
    return hit


def decision_disclosed(viewer: Any, *, reasons: list[dict[str, Any]], media: list[dict[str, Any]]) -> tuple[list, list]:
    """A Decision's ``reasons`` and ``media`` as ``viewer`` may read them."""
    reader = reader_for(viewer, reasons, media)
    return reasons_disclosed(reader, reasons), media_disclosed(reader, media)

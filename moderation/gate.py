"""The gate (SPEC section 2): prompt, reference media and consent stages, one Decision.

Every stage is run inside a guard: a stage that fails (an engine error, a model that cannot
load, a file that cannot be decoded) adds a reason that reviews or blocks — never allows.
``gate_run`` is what a worker (or, in tests and commands, the calling process) executes;
``gate_check`` is the entry point of the API: it stores the request (``gate_open``) and runs it
where ``SIGILLO_GATE_EXECUTION`` says, waiting for the outcome or not. A check writes its
Decision and nothing else: consent receipts are issued at release, consent requests by a
generation that waits for them.
"""

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from accounts.models import User
from consent.errors import ConsentReason
from moderation.decisions import decision_fail, decision_open, decision_record
from moderation.models import Decision
from moderation.reasons import VERDICTS, ReasonCode, Verdict

logger = logging.getLogger(__name__)

#: The most people one request may name as cameos (checks, generations, the studio's picker).
MAX_CAMEOS = 10
#: Said of a cameo id nobody has, and (moderation/disclosure.py) of one whose person the asker may not know.
CAMEO_UNAVAILABLE_DETAIL = "No cameo with this id is available to this requester."


@dataclass(frozen=True)
class MediaInput:
    name: str
    data: bytes


@dataclass
class GateState:
    """What the stages found so far; turned into a Decision at the end."""

    requester: User
    prompt: str
    use: str
    cameos: list[str]
    reasons: list[dict[str, Any]] = field(default_factory=list)
    engines: dict[str, Any] = field(default_factory=dict)
    #: likeness id → how it was found (first way wins for the consent reason's detail)
    found: dict[str, dict[str, Any]] = field(default_factory=dict)
    media: list[dict[str, Any]] = field(default_factory=list)
    faces: list[dict[str, Any]] = field(default_factory=list)
    #: (file, frame) → the image a face was seen on, kept as evidence when a person must review.
    frames: dict[tuple[int, int | None], Any] = field(default_factory=dict)

    def add(self, code: ReasonCode, detail: str, *, verdict: Verdict | None = None, stage: str, **extra: Any) -> None:
        reason = {"code": code.value, "verdict": (verdict or VERDICTS[code]).value, "stage": stage, "detail": detail}
        reason.update({key: value for key, value in extra.items() if value is not None})
        self.reasons.append(reason)

    def verdict(self) -> Verdict:
        verdicts = [Verdict(reason["verdict"]) for reason in self.reasons]
        return max(verdicts, key=lambda verdict: verdict.severity, default=Verdict.ALLOW)


@contextmanager
def guarded(state: GateState, stage: str) -> Iterator[None]:
    """Run one stage; any failure becomes a reason that does not allow (fail closed)."""
    started = time.monotonic()
    try:
        yield
    except Exception as error:
        logger.exception("gate stage %s failed", stage)
        state.add(
            ReasonCode.STAGE_FAILED,
            # The kind of failure only: its message may name server paths (it is in the log).
            "The %s check could not run (%s); a person must look at this request." % (stage, type(error).__name__),
            stage=stage,
            error=type(error).__name__,
        )
    finally:
        state.engines.setdefault("timings_ms", {})[stage] = round((time.monotonic() - started) * 1000, 1)


def _prompt_stage(state: GateState) -> None:
    from moderation.descriptors import find_descriptors
    from moderation.names import find_names, registry_name_index
    from moderation.policy import policy_check, policy_info

    prompt = state.prompt
    if not prompt.strip():
        return
    with guarded(state, "policy"):
        for hit in policy_check(prompt):
            if hit.action == "allow":
                continue
            state.add(
                ReasonCode.POLICY_VIOLATION,
                "The prompt falls under the policy category %s." % hit.category,
                verdict=Verdict(hit.action),
                stage="policy",
                category=hit.category,
                score=round(float(hit.score), 4),
                span=list(hit.span),
                method=hit.method,
            )
        state.engines["policy"] = policy_info()
    names = None
    with guarded(state, "names"):
        names = find_names(prompt, registry_name_index())
        for hit in names:
            state.add(
                ReasonCode.REGISTERED_NAME,
                "The prompt names a registered person (%s)." % hit.name,
                stage="names",
                likeness_id=str(hit.likeness_id),
                score=round(float(hit.score), 4),
                span=list(hit.span),
                method=hit.method,
            )
            state.found.setdefault(str(hit.likeness_id), {"by": "name", "span": list(hit.span)})
    with guarded(state, "descriptors"):
        for hit in find_descriptors(prompt, names=names):
            state.add(
                ReasonCode.REGISTERED_DESCRIPTOR,
                "The prompt describes a registered person (%s)." % hit.descriptor,
                stage="descriptors",
                likeness_id=str(hit.likeness_id),
                score=round(float(hit.score), 4),
                span=list(hit.span),
            )
            state.found.setdefault(str(hit.likeness_id), {"by": "descriptor", "span": list(hit.span)})
    state.engines["text_model"] = text_model_info()


def text_model_info() -> dict[str, Any]:
    """The sentence model the prompt stages used, as a Decision records it (no server path)."""
    from moderation import text_model

    try:
        info = text_model.model_info()
    except text_model.TextModelUnavailable:
        return {"name": text_model.MODEL_NAME, "unavailable": True}
    return {key: info[key] for key in ("name", "package", "version", "sha256")}


def _media_stage(state: GateState, media: list[MediaInput]) -> None:
    from consent.faces import get_engine
    from consent.faces.index import registry_size
    from consent.faces.tracks import assign_tracks, stranger_distance
    from consent.matching import face_match
    from moderation.media import MediaUndecodable, decode_media

    if not media:
        return
    engine = get_engine()
    state.engines["faces"] = engine.thresholds(enrolled=registry_size(engine.name, engine.model))
    unknown = Verdict(settings.SIGILLO_GATE_UNKNOWN_FACE)
    for position, item in enumerate(media):
        try:
            decoded = decode_media(name=item.name, data=item.data)
        except MediaUndecodable as error:
            state.add(
                ReasonCode.MEDIA_UNDECODABLE, "%s: %s." % (item.name, error.message), stage="media", file=position
            )
            state.media.append({"name": item.name, "size": len(item.data), "error": error.message})
            continue
        state.media.append(decoded.summary())
        seen = []
        for frame in decoded.frames:
            faces = engine.analyze(frame.image)
            if faces or decoded.kind == "image":  # a still's frame is evidence even without a face
                state.frames[(position, frame.index)] = frame.image
            seen.append((frame, [(face, face_match(embedding=face.embedding, engine=engine)) for face in faces]))
        # Faces are followed across a video's frames: each track is one face on screen, judged on
        # all its frames and reported once per person (a still image's faces are a track each).
        numbers = assign_tracks(
            [[face for face, _ in found] for _, found in seen],
            distance=engine.distance,
            same_face=engine.review_threshold,
            different_face=stranger_distance(engine),
        )
        tracks: dict[int, list[tuple[dict[str, Any], list[Any]]]] = {}
        for (frame, found), track_numbers in zip(seen, numbers, strict=True):
            for (face, hits), track in zip(found, track_numbers, strict=True):
                where = {"file": position, "frame": frame.index, "time": frame.time, "box": face.box.as_dict()}
                if decoded.kind != "image":  # a video's or an animated image's frames
                    where["track"] = track
                state.faces.append(
                    {**where, "best": hits[0].as_dict() if hits else None, "hits": [hit.as_dict() for hit in hits]}
                )
                tracks.setdefault(track, []).append((where, hits))
        for observations in tracks.values():
            _judge_track(state, observations, unknown)


def _judge_track(state: GateState, observations: list[tuple[dict[str, Any], list[Any]]], unknown: Verdict) -> None:
    """Add the reasons one face (a still image's, or a video's track) gives, once per person it is close to."""
    from consent.faces.tracks import track_hits
    from consent.models import Likeness, LikenessStatus

    def spread(close_in: tuple[dict[str, Any], ...]) -> dict[str, Any]:
        if len(observations) < 2:
            return {}
        return {"frames": [item["frame"] for item in close_in], "times": [item["time"] for item in close_in]}

    combined = track_hits(observations)
    if not combined:
        where = observations[0][0]
        state.add(
            ReasonCode.UNKNOWN_FACE,
            "A face that is not in the registry.",
            verdict=unknown,
            stage="media",
            **where,
            **spread(tuple(item for item, _ in observations)),
        )
        return
    # Every likeness the face is close to is evaluated, never only the nearest: a disputed
    # duplicate must not hide the original, nor a lookalike stand in for the real person.
    likenesses = {
        str(likeness.pk): likeness for likeness in Likeness.objects.filter(pk__in=[c.likeness_id for c in combined])
    }
    for item in combined:
        hit, where = item.best, item.best_at
        likeness = likenesses.get(hit.likeness_id)
        if likeness is None:
            continue  # erased since the search: its faces are gone
        seen = {"likeness_id": hit.likeness_id, "score": round(hit.distance, 4), **where, **spread(item.close_in)}
        if hit.duplicate_of:
            # An unproven claim on a face an established likeness holds: it adds nothing
            # that allows, and blocks nothing the holder's consent allows.
            state.add(
                ReasonCode.DISPUTED_DUPLICATE,
                "The face is also registered, disputed, as %s; the consent of the likeness "
                "that held it first governs." % hit.display_name,
                stage="media",
                duplicate_of=hit.duplicate_of,
                **seen,
            )
            continue
        if item.outcome != "match":
            detail = "A face close to a registered person (%s), but not close enough to be sure." % hit.display_name
            if hit.outcome == "match":
                detail = (
                    "One frame of a face matches a registered person (%s); its other frames do not, so a "
                    "moderator decides." % hit.display_name
                )
            state.add(ReasonCode.FACE_NEAR_MATCH, detail, stage="media", **seen)
            continue
        own = (
            likeness.owner_id == state.requester.pk
            and likeness.status == LikenessStatus.ACTIVE
            and not likeness.protected
            and likeness.suspended_at is None  # a suspended likeness grants nothing, even to its owner
        )
        if own:
            state.add(ReasonCode.OWN_LIKENESS, "The requester's own registered likeness.", stage="media", **seen)
            continue
        state.add(
            ReasonCode.REGISTERED_FACE,
            "A registered person's face (%s)." % hit.display_name,
            stage="media",
            **seen,
        )
        found = state.found.setdefault(hit.likeness_id, {"by": "face", "box": where["box"], "frame": where["frame"]})
        found["by_face"] = True
        if hit.ambiguous_with:
            # The face could as well be a person a moderator judged different: this
            # likeness's consent cannot cover it alone (see _consent_stage).
            found["ambiguous_with"] = sorted({*found.get("ambiguous_with", ()), *hit.ambiguous_with})


#: How each consent outcome reads in a Decision.
CONSENT_CODES = {
    ConsentReason.ALLOWED: ReasonCode.CONSENT_ALLOWS,
    ConsentReason.LIKENESS_ERASED: ReasonCode.DO_NOT_GENERATE,
    ConsentReason.PROTECTED_ENTRY: ReasonCode.PROTECTED_ENTRY,
    ConsentReason.LIKENESS_DISPUTED: ReasonCode.LIKENESS_DISPUTED,
    ConsentReason.LIKENESS_SUSPENDED: ReasonCode.LIKENESS_SUSPENDED,
    ConsentReason.PENDING_VERIFICATION: ReasonCode.LIKENESS_PENDING_VERIFICATION,
    ConsentReason.ESTATE_UNVERIFIED: ReasonCode.ESTATE_UNVERIFIED,
    ConsentReason.CONSENT_REVOKED: ReasonCode.CONSENT_REVOKED,
    ConsentReason.NO_CONSENT: ReasonCode.NO_CONSENT,
    ConsentReason.NOT_YET_VALID: ReasonCode.CONSENT_NOT_YET_VALID,
    ConsentReason.EXPIRED: ReasonCode.CONSENT_EXPIRED,
    ConsentReason.REQUESTER_NOT_IN_AUDIENCE: ReasonCode.REQUESTER_NOT_IN_AUDIENCE,
    ConsentReason.USE_NOT_ALLOWED: ReasonCode.USE_NOT_ALLOWED,
    ConsentReason.FORBIDDEN_TOPIC: ReasonCode.FORBIDDEN_TOPIC,
    ConsentReason.TOPIC_CHECK_FAILED: ReasonCode.STAGE_FAILED,
    ConsentReason.APPROVAL_REQUIRED: ReasonCode.APPROVAL_REQUIRED,
    ConsentReason.APPROVAL_DENIED: ReasonCode.APPROVAL_DENIED,
}


def _consent_stage(state: GateState) -> None:
    from consent.evaluation import consent_evaluate
    from consent.matching import likeness_established
    from consent.models import Likeness, LikenessStatus

    wanted = dict(state.found)
    cameos = {str(cameo) for cameo in state.cameos}
    for cameo in state.cameos:
        wanted.setdefault(str(cameo), {"by": "cameo"})
    likenesses = {str(likeness.pk): likeness for likeness in Likeness.objects.filter(pk__in=list(wanted))}
    for likeness_id, how in wanted.items():
        likeness = likenesses.get(likeness_id)
        if likeness is None or (
            likeness.status == LikenessStatus.ERASED and not likeness.do_not_generate and how["by"] == "cameo"
        ):
            state.add(
                ReasonCode.CAMEO_UNAVAILABLE,
                CAMEO_UNAVAILABLE_DETAIL,
                stage="consent",
                likeness_id=likeness_id,
            )
            continue
        if likeness.status == LikenessStatus.DISPUTED and likeness_id not in cameos and not how.get("by_face"):
            # Found by words only (its face sightings, if any, each duplicated an established
            # likeness: see _media_stage). Where each of those words also found an established
            # likeness, this is a duplicate of that one, whose consent governs; otherwise it is
            # a claim of its own, evaluated below, and it grants nothing.
            words = [
                reason
                for reason in state.reasons
                if reason["stage"] in ("names", "descriptors")
                and reason.get("span")
                and reason.get("likeness_id") in likenesses
            ]
            mine = [reason for reason in words if reason["likeness_id"] == likeness_id]
            originals = [
                next(
                    (
                        other["likeness_id"]
                        for other in words
                        if other["stage"] == reason["stage"]
                        and likeness_established(likenesses[other["likeness_id"]])
                        and other["span"][0] < reason["span"][1]
                        and reason["span"][0] < other["span"][1]
                    ),
                    None,
                )
                for reason in mine
            ]
            if mine and all(originals):
                state.add(
                    ReasonCode.DISPUTED_DUPLICATE,
                    "%s is a disputed registration named like %s; that likeness's consent governs."
                    % (likeness.display_name, likenesses[originals[0]].display_name),
                    stage="consent",
                    likeness_id=likeness_id,
                    duplicate_of=originals[0],
                    found_by=how["by"],
                )
                continue
        ambiguous = list(how.get("ambiguous_with") or ())
        with guarded(state, "consent"):
            # The gate only says what the consent allows: it issues no receipt (a release does)
            # and opens no request (a generation that waits for an answer does). A face about as
            # close to a person a moderator judged different is not known to be this person's: a
            # consent that would allow (or ask the person) sends it to review instead.
            result = consent_evaluate(likeness=likeness, requester=state.requester, use=state.use, prompt=state.prompt)
            version = result.version.number if result.version else None
            codes = [CONSENT_CODES[reason.code.value] for reason in result.reasons]
            if ambiguous and all(VERDICTS[code] != Verdict.BLOCK for code in codes):
                state.add(
                    ReasonCode.FACE_AMBIGUOUS,
                    "%s: the face is about as close to a person a moderator judged different; this "
                    "consent cannot cover it alone." % likeness.display_name,
                    stage="consent",
                    likeness_id=likeness_id,
                    consent_version=version,
                    found_by=how["by"],
                    ambiguous_with=ambiguous,
                )
                continue
            for reason in result.reasons:
                code = CONSENT_CODES[reason.code.value]
                state.add(
                    code,
                    "%s: %s" % (likeness.display_name, reason.detail),
                    stage="consent",
                    likeness_id=likeness_id,
                    consent_version=version,
                    found_by=how["by"],
                    **{key: value for key, value in reason.extra.items() if key in ("topic", "score", "span", "use")},
                )


def gate_run(*, decision: Decision, media: list[MediaInput]) -> Decision:
    """Run every stage for a stored, pending decision and record the outcome (once)."""
    state = GateState(
        requester=decision.requester,
        prompt=decision.prompt,
        use=decision.use or "personal",
        cameos=list(decision.cameos),
    )
    _prompt_stage(state)
    with guarded(state, "media"):
        _media_stage(state, media)
    _consent_stage(state)
    return _record(decision, state)


def _record(decision: Decision, state: GateState) -> Decision:
    """Record what the stages found (once: a decision closed meanwhile is returned as it is)."""
    return decision_record(
        decision=decision,
        verdict=state.verdict(),
        reasons=state.reasons,
        engines=state.engines,
        media=state.media + ([{"faces": state.faces}] if state.faces else []),
        evidence=state.frames,
    )


def _fail_closed(decision: Decision, code: ReasonCode, detail: str) -> Decision:
    """Close a pending decision that could not be computed: review, never allow."""
    return decision_fail(decision=decision, code=code, detail=detail)


def gate_open(
    *,
    requester: User,
    prompt: str = "",
    use: str = "personal",
    cameos: list[str] | None = None,
    kind: str = Decision.Kind.CHECK,
) -> Decision:
    """Store a request for the gate as a pending Decision (review until decided: never allow).

    ``@handle`` mentions in the prompt are cameos like those in ``cameos``, as in a generation
    request: an integrator's check sees exactly what a generation sees. A handle nobody has, or
    one of a person the requester may not know, raises the same ValidationError (by field)
    before anything is stored.
    """
    from django.core.exceptions import ValidationError

    from consent.handles import mentions_resolve_for, mentions_unavailable_message

    mentioned, unknown = mentions_resolve_for(prompt, asker=requester)
    if unknown:
        raise ValidationError({"prompt": [mentions_unavailable_message(unknown)]})
    cameos = list(dict.fromkeys([*(str(cameo) for cameo in cameos or []), *(str(like.pk) for like in mentioned)]))
    return decision_open(kind=kind, requester=requester, prompt=prompt, use=use, cameos=cameos)


def gate_run_closed(*, decision: Decision, media: list[MediaInput]) -> Decision:
    """``gate_run``, and a failure that escaped the stages' guards closes the decision (review)."""
    try:
        return gate_run(decision=decision, media=media)
    except Exception as error:
        logger.exception("gate failed")
        return _fail_closed(decision, ReasonCode.STAGE_FAILED, "The gate could not run (%s)." % type(error).__name__)


def gate_check(
    *,
    requester: User,
    prompt: str = "",
    use: str = "personal",
    cameos: list[str] | None = None,
    media: list[MediaInput] | None = None,
    kind: str = Decision.Kind.CHECK,
    wait: bool = True,
) -> Decision:
    """Check a request without generating anything; return the stored Decision.

    A check has no side effects beyond its Decision (and a moderator's flag when it asks for
    review): no receipt, no consent request, no notification — it says what would happen.
    Where ``SIGILLO_GATE_EXECUTION`` is ``worker`` the stages run in a scanning worker: with
    ``wait`` the caller waits up to ``SIGILLO_GATE_TIMEOUT`` (then the decision closes as review),
    without it the pending Decision comes back at once, to be polled.
    """
    decision = gate_open(requester=requester, prompt=prompt, use=use, cameos=cameos, kind=kind)
    media = media or []
    if settings.SIGILLO_GATE_EXECUTION == "inline":
        return gate_run_closed(decision=decision, media=media)
    try:
        result = gate_enqueue(decision, media)
    except Exception as error:  # the broker is down: the check cannot run, so it fails closed now
        logger.warning("gate check %s could not be sent: %s", decision.pk, error)
        return _fail_closed(
            decision,
            ReasonCode.GATE_TIMEOUT,
            "The check could not be sent to a worker (%s); a person must look at this request." % type(error).__name__,
        )
    if not wait:
        return decision
    try:
        result.get(timeout=settings.SIGILLO_GATE_TIMEOUT, disable_sync_subtasks=False)
    except Exception as error:
        logger.warning("gate check %s did not finish: %s", decision.pk, error)
        return _fail_closed(
            decision,
            ReasonCode.GATE_TIMEOUT,
            "The check did not finish within %.0f s (%s); a person must look at this request."
            % (settings.SIGILLO_GATE_TIMEOUT, type(error).__name__),
        )
    decision.refresh_from_db()
    return decision


def gate_enqueue(decision: Decision, media: list[MediaInput]) -> Any:
    """Send a pending decision to a scanning worker (its files encrypted on disk until the task ends)."""
    from consent import crypto
    from moderation.tasks import gate_run_task

    paths = [(item.name, crypto.store_encrypted_file(item.data, folder="gate")) for item in media]
    try:
        return gate_run_task.apply_async(kwargs={"decision_id": str(decision.pk), "media": paths}, queue="scanning")
    except Exception:
        for _, path in paths:  # no task will read them
            crypto.delete_file(path)
        raise


def decision_close_if_stale(decision: Decision) -> Decision:
    """Close a decision still pending after ``SIGILLO_GATE_ASYNC_TIMEOUT`` (no worker took it): review."""
    limit = settings.SIGILLO_GATE_ASYNC_TIMEOUT
    if decision.state != Decision.State.PENDING or timezone.now() - decision.created_at < timedelta(seconds=limit):
        return decision
    return _fail_closed(
        decision,
        ReasonCode.GATE_TIMEOUT,
        "The check did not finish within %.0f s; a person must look at this request." % limit,
    )

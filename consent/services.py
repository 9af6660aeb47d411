"""Write operations of the likeness registry. Every interface (API, web, admin, commands, tasks)
calls these; each is one transaction that also writes its audit row.
"""

import csv
import io
import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from consent import crypto
from consent.access import can_act_for, can_edit_entry
from consent.enrollment import MESSAGES, AnalyzedPhoto, EnrollmentRejected, PhotoError, PhotoInput, photos_analyze
from consent.errors import EnrollmentError, NameRejection
from consent.faces.base import FaceEngine
from consent.handles import handle_clean, handle_suggest
from consent.models import (
    Audience,
    ConsentRequest,
    ConsentVersion,
    EstateClaim,
    Face,
    FaceIndexChange,
    Likeness,
    LikenessPhoto,
    LikenessStatus,
    Subject,
    Use,
)
from consent.signals import biometrics_erased, consent_answered, faces_enrolled
from moderation.audit import audit_record
from moderation.decisions import flag_close, flag_open
from moderation.models import Flag

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnrollmentResult:
    likeness: Likeness
    faces_enrolled: int
    disputed_with: tuple[str, ...] = ()
    matches: tuple[dict, ...] = field(default=())


def _clean_names(values: list[str] | None, *, field_name: str, max_items: int = 50, max_length: int = 200) -> list[str]:
    cleaned: list[str] = []
    for value in values or []:
        if not isinstance(value, str):
            raise ValidationError({field_name: ["Each entry must be text."]})
        value = " ".join(value.split())
        if len(value) > max_length:
            raise ValidationError({field_name: ["Each entry may have at most %d characters." % max_length]})
        if value and value.casefold() not in {item.casefold() for item in cleaned}:
            cleaned.append(value)
    if len(cleaned) > max_items:
        raise ValidationError({field_name: ["At most %d entries." % max_items]})
    return cleaned


#: Letters a name or alias needs after normalisation (a wide East Asian character counts as two).
NAME_MIN_LETTERS = 3
#: Little words that never tell a person apart (the common-word list holds only words of 3+ letters).
NAME_FILLER_WORDS = frozenset(
    "a an and as at be by do for from he her his if in is it me my no of on or our so the to up us we with".split()
)


def _letters(tokens: tuple[str, ...] | list[str]) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for token in tokens for char in token)


def name_problem(name: str) -> ValidationError | None:
    """Return why ``name`` may not be a registered name or alias, or None if it may.

    A registered name is matched in every prompt: one that is too short or only a common English
    word ("a", "the", "Rose") would turn everyday prompts into hits on this person. Several words
    are fine even when each is common ("Will Smith"); one distinctive word of 3 letters is too ("Cher").
    """
    from moderation.names import common_words, name_tokens

    # Runs of letters, as the matcher reads them (a "!" stuck to a word would hide it from name_tokens).
    tokens = name_tokens("".join(char if char.isalpha() else " " for char in name))
    core = [token for token in tokens if len(token) > 1 and token not in NAME_FILLER_WORDS]
    short = _letters(tokens) < NAME_MIN_LETTERS or (not core and all(len(token) == 1 for token in tokens))
    if short or (len(core) == 1 and core[0] not in common_words() and _letters(core) < NAME_MIN_LETTERS):
        return ValidationError(
            "“%(name)s” is too short to tell a person apart: a name or alias needs at least %(letters)d letters, "
            "not counting initials and little words such as “a” or “the”.",
            code=NameRejection.TOO_SHORT.value,
            params={"name": name, "letters": NAME_MIN_LETTERS},
        )
    if not core or (len(core) == 1 and core[0] in common_words()):
        return ValidationError(
            "“%(name)s” is only a common English word: on its own it would match everyday prompts. "
            "Give a distinctive name, or the full name (first and last name, say).",
            code=NameRejection.COMMON_WORD.value,
            params={"name": name},
        )
    return None


def _clean_person_names(
    *, display_name: str | None = None, aliases: list[str] | None = None, required: bool = False
) -> tuple[str | None, list[str] | None]:
    """Clean a display name and aliases; refuse, per field and together, those that would match everyday prompts.

    ``None`` leaves a field out (an update that does not change it); ``required`` asks for the display name.
    """
    errors: dict[str, list[ValidationError]] = {}
    if display_name is not None or required:
        display_name = " ".join((display_name or "").split())
        if not display_name:
            errors["display_name"] = [ValidationError("Give the person's name.", code="required")]
        elif len(display_name) > 200:
            errors["display_name"] = [ValidationError("At most 200 characters.", code="max_length")]
        elif problem := name_problem(display_name):
            errors["display_name"] = [problem]
    if aliases is not None:
        try:
            aliases = _clean_names(aliases, field_name="aliases")
        except ValidationError as error:
            errors.update(error.error_dict)
        else:
            if problems := [problem for alias in aliases if (problem := name_problem(alias))]:
                errors["aliases"] = problems
    if errors:
        raise ValidationError(errors)
    return display_name, aliases


def _write_faces(
    *, likeness: Likeness, analyzed: list[AnalyzedPhoto], engine: FaceEngine, written: list[str]
) -> list[Face]:
    """Store each photo (metadata stripped, encrypted) and its chosen face; log the index changes."""
    faces = []
    for photo in analyzed:
        path = crypto.store_encrypted_file(photo.clean_bytes(), folder="likenesses/%s" % likeness.pk)
        written.append(path)
        stored = LikenessPhoto.objects.create(
            likeness=likeness,
            original_name=photo.input.name[:255],
            file_path=path,
            width=photo.image.width,
            height=photo.image.height,
        )
        face = Face.objects.create(
            likeness=likeness,
            photo=stored,
            engine=engine.name,
            model=engine.model,
            dimension=int(photo.chosen.embedding.shape[0]),
            embedding=crypto.encrypt_embedding(photo.chosen.embedding),
            box=photo.chosen.box.as_dict(),
            detection_score=float(photo.chosen.detection_score),
        )
        faces.append(face)
    FaceIndexChange.objects.bulk_create(
        FaceIndexChange(
            face_id=face.pk, likeness_id=likeness.pk, engine=face.engine, model=face.model, op=FaceIndexChange.Op.ADD
        )
        for face in faces
    )
    return faces


def _registry_matches(*, analyzed: list[AnalyzedPhoto], engine: FaceEngine) -> list[dict]:
    """Return every registered likeness (not erased) that any of these faces matches."""
    from consent.search import face_search

    matches: dict[str, dict] = {}
    for photo in analyzed:
        # Every likeness within the threshold, however many: the one this owner already has, or
        # a live one behind erased ones, must not fall off the end of a short list.
        k = 8
        while True:
            found = face_search(
                embedding=photo.chosen.embedding,
                engine=engine.name,
                model=engine.model,
                k=k,
                max_distance=engine.match_threshold,
            )
            if len(found) < k:
                break
            k *= 4
        for hit in found:
            key = str(hit.likeness_id)
            if key not in matches or hit.distance < matches[key]["distance"]:
                matches[key] = {"likeness_id": key, "distance": round(float(hit.distance), 4), **engine.thresholds()}
    if not matches:
        return []
    live = set(
        Likeness.objects.filter(pk__in=list(matches)).exclude(status=LikenessStatus.ERASED).values_list("pk", flat=True)
    )
    return [match for key, match in matches.items() if any(str(pk) == key for pk in live)]


def likeness_enroll(
    *,
    owner: User,
    display_name: str,
    photos: list[PhotoInput],
    aliases: list[str] | None = None,
    descriptors: list[str] | None = None,
    subject: str = Subject.SELF,
    date_of_death: date | None = None,
    jurisdiction: str = "",
    estate_document: PhotoInput | None = None,
    engine: FaceEngine | None = None,
    handle: str | None = None,
) -> EnrollmentResult:
    """Register a likeness from photos, all or nothing.

    A face that already matches another registered likeness makes this one ``disputed`` and
    opens a moderator flag: nobody can register someone else's face to grant consent for them.
    A deceased person's entry waits for a moderator to verify the estate's document.
    """
    subject = Subject(subject)
    display_name, aliases = _clean_person_names(display_name=display_name, aliases=aliases or [], required=True)
    descriptors = _clean_names(descriptors, field_name="descriptors", max_length=500)
    handle = handle_clean(handle) if handle else None
    if subject == Subject.DECEASED:
        if not owner.has_role(Role.ESTATE_REPRESENTATIVE):
            raise PermissionError("Only an estate representative can register a person who has died.")
        if date_of_death is None:
            raise ValidationError({"date_of_death": ["Give the date of death."]})
        if date_of_death > timezone.now().date():
            raise ValidationError({"date_of_death": ["The date of death cannot be in the future."]})
        if estate_document is None or not estate_document.data:
            raise ValidationError({"estate_document": ["Attach a document proving your authority over the estate."]})
        if len(estate_document.data) > settings.SIGILLO_UPLOAD_MAX_BYTES:
            raise ValidationError({"estate_document": [MESSAGES[EnrollmentError.FILE_TOO_LARGE]]})
    elif not owner.has_role(Role.RIGHTS_HOLDER):
        raise PermissionError("Only a rights holder can register their own likeness.")
    elif date_of_death is not None:
        raise ValidationError({"date_of_death": ["Only a person who has died has a date of death."]})

    engine, analyzed = photos_analyze(photos=photos, engine=engine)
    written: list[str] = []
    try:
        with transaction.atomic():
            matches = _registry_matches(analyzed=analyzed, engine=engine)
            own = [m for m in matches if Likeness.objects.filter(pk=m["likeness_id"], owner=owner).exists()]
            if own:
                raise EnrollmentRejected(
                    [
                        PhotoError(
                            0,
                            photos[0].name,
                            EnrollmentError.ALREADY_REGISTERED,
                            MESSAGES[EnrollmentError.ALREADY_REGISTERED],
                        )
                    ]
                )
            if matches:
                status = LikenessStatus.DISPUTED
            elif subject == Subject.DECEASED or liveness_required():
                # The estate's document, or the person's live selfie check, comes first.
                status = LikenessStatus.PENDING_VERIFICATION
            else:
                status = LikenessStatus.ACTIVE
            likeness = Likeness.objects.create(
                owner=owner,
                created_by=owner,
                display_name=display_name,
                handle=handle or handle_suggest(display_name),
                aliases=aliases,
                descriptors=descriptors,
                subject=subject,
                date_of_death=date_of_death,
                jurisdiction=jurisdiction.strip(),
                status=status,
            )
            faces = _write_faces(likeness=likeness, analyzed=analyzed, engine=engine, written=written)
            ConsentVersion.objects.create(likeness=likeness, number=1, created_by=owner)  # nobody, nothing
            _faces_enrolled(likeness)
            if subject == Subject.DECEASED:
                document_path = crypto.store_encrypted_file(estate_document.data, folder="estates/%s" % likeness.pk)
                written.append(document_path)
                claim = EstateClaim.objects.create(
                    likeness=likeness,
                    representative=owner,
                    document_path=document_path,
                    document_name=estate_document.name[:255],
                )
                flag_open(
                    actor=owner,
                    kind=Flag.Kind.ESTATE,
                    likeness=likeness,
                    reason="estate_verification",
                    detail="Verify %s's authority over the estate of %s." % (owner.username, display_name),
                    evidence={"estate_claim": claim.pk, "date_of_death": date_of_death.isoformat()},
                )
            if matches:
                flag_open(
                    actor=owner,
                    kind=Flag.Kind.DISPUTE,
                    likeness=likeness,
                    reason="face_matches_registered_likeness",
                    detail="The face enrolled for %s matches %d registered likeness(es)."
                    % (display_name, len(matches)),
                    evidence={"matches": matches},
                )
            audit_record(
                actor=owner,
                action="likeness.enroll",
                target=likeness,
                data={"status": status, "faces": len(faces), "engine": engine.thresholds(), "matches": matches},
            )
    except BaseException:
        for path in written:
            crypto.delete_file(path)
        raise
    return EnrollmentResult(
        likeness=likeness,
        faces_enrolled=len(faces),
        disputed_with=tuple(match["likeness_id"] for match in matches),
        matches=tuple(matches),
    )


@transaction.atomic
def likeness_add_photos(
    *, actor: User, likeness: Likeness, photos: list[PhotoInput], engine: FaceEngine | None = None
) -> int:
    """Add photos to a likeness (protected entries start without any); they must show the same person."""
    if not can_edit_entry(actor, likeness):
        raise PermissionError("Only the person, or a moderator for a protected entry, adds photos.")
    engine, analyzed = photos_analyze(photos=photos, engine=engine)
    existing = [
        crypto.decrypt_embedding(face.embedding)
        for face in likeness.faces.filter(engine=engine.name, model=engine.model)
    ]
    if existing:
        for index, photo in enumerate(analyzed):
            nearest = min(engine.distance(photo.chosen.embedding, vector) for vector in existing)
            if nearest > engine.match_threshold:
                raise EnrollmentRejected(
                    [
                        PhotoError(
                            index,
                            photo.input.name,
                            EnrollmentError.DIFFERENT_PEOPLE,
                            MESSAGES[EnrollmentError.DIFFERENT_PEOPLE],
                        )
                    ]
                )
    written: list[str] = []
    try:
        faces = _write_faces(likeness=likeness, analyzed=analyzed, engine=engine, written=written)
        audit_record(actor=actor, action="likeness.add_photos", target=likeness, data={"faces": len(faces)})
        _faces_enrolled(likeness)
    except BaseException:
        for path in written:
            crypto.delete_file(path)
        raise
    return len(faces)


@transaction.atomic
def likeness_update(
    *,
    actor: User,
    likeness: Likeness,
    display_name: str | None = None,
    aliases: list[str] | None = None,
    descriptors: list[str] | None = None,
    jurisdiction: str | None = None,
    handle: str | None = None,
) -> Likeness:
    """Change names, aliases, descriptors, jurisdiction or the cameo handle.

    The person does it, or a moderator for a protected entry; names that would match everyday
    prompts are refused.
    """
    if not can_edit_entry(actor, likeness):
        raise PermissionError("Only the person, or their verified estate, changes how they are named.")
    if likeness.status == LikenessStatus.ERASED:
        raise ValidationError("An erased likeness cannot be changed.", code="erased")
    changed: dict[str, Any] = {}
    display_name, aliases = _clean_person_names(display_name=display_name, aliases=aliases)
    if display_name is not None:
        changed["display_name"] = display_name
    if aliases is not None:
        changed["aliases"] = aliases
    if descriptors is not None:
        changed["descriptors"] = _clean_names(descriptors, field_name="descriptors", max_length=500)
    if jurisdiction is not None:
        changed["jurisdiction"] = jurisdiction.strip()
    if handle is not None:
        changed["handle"] = handle_clean(handle, likeness=likeness)
    for key, value in changed.items():
        setattr(likeness, key, value)
    likeness.save()
    audit_record(actor=actor, action="likeness.update", target=likeness, data=changed)
    return likeness


def consent_current(likeness: Likeness) -> ConsentVersion | None:
    return likeness.consent_versions.order_by("-number").first()


@transaction.atomic
def consent_set(
    *,
    actor: User,
    likeness: Likeness,
    audience: str,
    uses: list[str],
    approved_users: list[int] | None = None,
    forbidden_topics: list[str] | None = None,
    per_use_approval: bool = False,
    valid_from: datetime | None = None,
    valid_until: datetime | None = None,
) -> ConsentVersion:
    """Write a new version of the consent policy; the previous versions stay as they were."""
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if locked.status == LikenessStatus.ERASED:
        raise ValidationError("An erased likeness has no consent to change.", code="erased")
    if locked.protected:
        raise ValidationError("A protected entry never grants consent.", code="protected")
    if not can_act_for(actor, locked):
        raise PermissionError(
            "Only the person, or their verified estate, grants or changes consent; a moderator may suspend the likeness."
        )
    audience = Audience(audience)
    uses = sorted({Use(use).value for use in uses})
    approved = sorted({int(user_id) for user_id in approved_users or []})
    if approved and User.objects.filter(pk__in=approved).count() != len(approved):
        raise ValidationError({"approved_users": ["Some of these users do not exist."]})
    if valid_from and valid_until and valid_until <= valid_from:
        raise ValidationError({"valid_until": ["The end of validity must come after its start."]})
    for moment in (valid_from, valid_until):
        if moment is not None and timezone.is_naive(moment):
            raise ValidationError({"valid_until": ["Give times with a time zone."]})
    topics = _clean_names(forbidden_topics, field_name="forbidden_topics", max_length=300)
    previous = consent_current(locked)
    version = ConsentVersion.objects.create(
        likeness=locked,
        number=(previous.number + 1) if previous else 1,
        audience=audience,
        approved_users=approved,
        uses=uses,
        forbidden_topics=topics,
        per_use_approval=per_use_approval,
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=actor,
    )
    if locked.status == LikenessStatus.REVOKED:
        locked.status = LikenessStatus.ACTIVE
        locked.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="consent.set",
        target=locked,
        data={"version": version.number, "audience": audience, "uses": uses},
    )
    return version


@transaction.atomic
def consent_revoke(*, actor: User, likeness: Likeness) -> ConsentVersion:
    """Revoke all consent now: a new version that allows nothing; the likeness stays protected."""
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if not can_act_for(actor, locked):
        raise PermissionError(
            "Only the person, or their verified estate, revokes consent; a moderator may suspend the likeness."
        )
    if locked.status == LikenessStatus.ERASED:
        raise ValidationError("An erased likeness has no consent to revoke.", code="erased")
    previous = consent_current(locked)
    version = ConsentVersion.objects.create(
        likeness=locked,
        number=(previous.number + 1) if previous else 1,
        audience=Audience.NOBODY,
        uses=[],
        revoked=True,
        created_by=actor,
    )
    if locked.status == LikenessStatus.ACTIVE:
        locked.status = LikenessStatus.REVOKED
        locked.save(update_fields=["status", "updated_at"])
    audit_record(actor=actor, action="consent.revoke", target=locked, data={"version": version.number})
    likeness.status = locked.status
    return version


def _erase_biometrics(likeness: Likeness) -> dict[str, int]:
    """Delete photos, documents and embeddings of a likeness, files included; log index removals."""
    faces = list(likeness.faces.values("pk", "engine", "model"))
    FaceIndexChange.objects.bulk_create(
        FaceIndexChange(
            face_id=f["pk"], likeness_id=likeness.pk, engine=f["engine"], model=f["model"], op=FaceIndexChange.Op.REMOVE
        )
        for f in faces
    )
    paths = list(likeness.photos.values_list("file_path", flat=True))
    documents = [path for path in likeness.estate_claims.values_list("document_path", flat=True) if path]
    # The live selfie checks' best frames are biometric data too; their outcomes and measurements stay.
    documents += [path for frames in likeness.liveness_checks.values_list("frames", flat=True) for path in frames]
    likeness.faces.all().delete()
    likeness.photos.all().delete()
    likeness.estate_claims.update(document_path="")
    likeness.liveness_checks.update(frames=[])
    biometrics_erased.send(sender=Likeness, likeness_id=likeness.pk)
    # Files go once the rows are gone for good.
    transaction.on_commit(lambda: [crypto.delete_file(path) for path in [*paths, *documents]])
    return {"faces": len(faces), "photos": len(paths), "documents": len(documents)}


@transaction.atomic
def likeness_erase(*, actor: User, likeness: Likeness, keep_name: bool = False) -> Likeness:
    """Erase every piece of biometric data of a likeness.

    With ``keep_name`` a name-only "do not generate" entry stays (enforced on prompts);
    otherwise the names go too. An audit record keeps the fact that it happened. The person
    erases (or their verified estate); moderators erase only protected entries.
    """
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if not can_edit_entry(actor, locked):
        raise PermissionError("Only the person, or their verified estate, erases their likeness.")
    erased = _erase_biometrics(locked)
    locked.status = LikenessStatus.ERASED
    locked.do_not_generate = keep_name
    if not keep_name:
        locked.display_name = "(erased)"
        locked.handle = None  # made from the name: it goes with it
        locked.aliases = []
        locked.descriptors = []
    locked.save()
    for flag in locked.flags.filter(status=Flag.Status.OPEN):
        flag_close(flag=flag, actor=actor, decision="likeness_erased")
    audit_record(actor=actor, action="likeness.erase", target=locked, data={**erased, "keep_name": keep_name})
    return locked


@transaction.atomic
def dispute_decide(*, moderator: User, flag: Flag, legitimate: bool, note: str = "") -> Likeness:
    """Decide a dispute: the new likeness is legitimate (becomes active) or not (its face data is erased).

    Legitimate means a different person who looks alike: that finding is recorded, for each
    likeness the face matched, as a ``LikenessDistinction`` (the gate then tells the two apart
    only where a face is clearly one's, see ``consent.matching``).
    """
    from moderation.models import LikenessDistinction

    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators decide disputes.")
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.kind != Flag.Kind.DISPUTE or flag.status != Flag.Status.OPEN:
        raise ValidationError("This flag is not an open dispute.", code="not_open")
    likeness = Likeness.objects.select_for_update().get(pk=flag.likeness_id)
    if legitimate:
        pending_estate = (
            likeness.subject == Subject.DECEASED
            and not likeness.estate_claims.filter(status=EstateClaim.Status.VERIFIED).exists()
        )
        pending_person = likeness.subject == Subject.SELF and liveness_required() and likeness.verified_at is None
        pending = pending_estate or pending_person
        likeness.status = LikenessStatus.PENDING_VERIFICATION if pending else LikenessStatus.ACTIVE
        if (
            likeness.suspended_at is not None
            and likeness.suspended_by_id is None
            and likeness.suspension_note == FROZEN_NOTE
        ):
            # Frozen when someone else verified live with a similar face: a lookalike, it is released.
            likeness.suspended_at, likeness.suspension_note = None, ""
        likeness.save(update_fields=["status", "suspended_at", "suspension_note", "updated_at"])
        _faces_enrolled(likeness)
    else:
        _erase_biometrics(likeness)
        likeness.status = LikenessStatus.ERASED
        likeness.save(update_fields=["status", "updated_at"])
    distinct_from = []
    if legitimate:
        matched = [match.get("likeness_id") for match in (flag.evidence or {}).get("matches", [])]
        for other in Likeness.objects.filter(pk__in=[value for value in matched if value]).exclude(pk=likeness.pk):
            first, second = sorted([likeness.pk, other.pk])
            LikenessDistinction.objects.get_or_create(
                likeness_a_id=first,
                likeness_b_id=second,
                defaults={"decided_by": moderator, "flag": flag, "note": note},
            )
            distinct_from.append(str(other.pk))
    flag = flag_close(
        flag=flag,
        actor=moderator,
        decision="legitimate" if legitimate else "rejected",
        note=note,
        data={"likeness": str(likeness.pk), "distinct_from": sorted(distinct_from)},
    )
    audit_record(
        actor=moderator,
        action="dispute.decide",
        target=likeness,
        data={"flag": str(flag.pk), "legitimate": legitimate, "note": note, "distinct_from": sorted(distinct_from)},
    )
    return likeness


@transaction.atomic
def dispute_transfer(*, moderator: User, flag: Flag, note: str) -> Likeness:
    """Give a likeness frozen for a verified person to that person: its owner becomes theirs, the
    consent its registrant set is void (a new version: nobody, nothing), the freeze is lifted and
    the likeness counts as verified through theirs. Only for a flag opened by a live verification."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators decide disputes.")
    if not note.strip():
        raise ValidationError({"note": ["Say why the likeness goes to the verified person."]}, code="note_required")
    flag = Flag.objects.select_for_update().get(pk=flag.pk)
    if flag.kind != Flag.Kind.DISPUTE or flag.status != Flag.Status.OPEN:
        raise ValidationError("This flag is not an open dispute.", code="not_open")
    verified_id = (flag.evidence or {}).get("verified_likeness")
    verified = Likeness.objects.filter(pk=verified_id).first() if verified_id else None
    if verified is None or verified.verified_at is None or verified.owner_id is None:
        raise ValidationError(
            "Only a likeness frozen for a person verified live can be transferred to them.", code="not_transferable"
        )
    likeness = Likeness.objects.select_for_update().get(pk=flag.likeness_id)
    previous_owner = likeness.owner.username if likeness.owner else None
    likeness.owner = verified.owner
    likeness.suspended_at, likeness.suspended_by, likeness.suspension_note = None, None, ""
    likeness.verified_at = timezone.now()
    likeness.verification = {"by": "transfer", "from_likeness": str(verified.pk), "moderator": moderator.username}
    if likeness.status in (LikenessStatus.PENDING_VERIFICATION, LikenessStatus.DISPUTED):
        likeness.status = LikenessStatus.ACTIVE
    likeness.save()
    number = (likeness.consent_versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    ConsentVersion.objects.create(likeness=likeness, number=number, created_by=moderator)  # nobody, nothing
    _faces_enrolled(likeness)
    flag = flag_close(flag=flag, actor=moderator, decision="transfer", note=note, data={"likeness": str(likeness.pk)})
    audit_record(
        actor=moderator,
        action="likeness.transfer",
        target=likeness,
        data={"from": previous_owner, "to": verified.owner.username, "flag": str(flag.pk), "note": note},
    )
    return likeness


def liveness_required() -> bool:
    """Whether a self-registered likeness waits for its person's live selfie check before it grants anything.

    On unless the setting ``SIGILLO_LIVENESS_REQUIRED`` turns it off (the README says what that gives up).
    """
    return bool(settings.SIGILLO_LIVENESS_REQUIRED)


def likeness_mark_verified(*, actor: User, likeness: Likeness, how: dict[str, Any]) -> Likeness:
    """Record that the person in ``likeness``'s photos was verified (``how``: by which check or
    moderator); a self-registered likeness waiting for it becomes active. Audited."""
    with transaction.atomic():
        locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
        locked.verified_at = timezone.now()
        locked.verification = how
        fields = ["verified_at", "verification", "updated_at"]
        if locked.subject == Subject.SELF and locked.status == LikenessStatus.PENDING_VERIFICATION:
            locked.status = LikenessStatus.ACTIVE
            fields.append("status")
        locked.save(update_fields=fields)
        if "status" in fields:
            _faces_enrolled(locked)
        audit_record(actor=actor, action="likeness.verified", target=locked, data={**how, "status": locked.status})
        if how.get("by") == "liveness":
            _impostors_freeze(verified=locked, actor=actor)
    return locked


#: The note a frozen likeness's owner sees.
FROZEN_NOTE = (
    "Frozen: the person whose face this is has verified themselves with a live selfie check. This likeness "
    "grants nothing while a moderator decides."
)


def _impostors_freeze(*, verified: Likeness, actor: User) -> list[str]:
    """The person of ``verified`` passed the live check: every likeness someone else registered
    with the same face, without verification, is frozen (suspended: it grants nothing, and what it
    allowed stops at once) and put in front of a moderator with both sides' evidence; the verified
    likeness, if it was disputed for that face alone, becomes active. Return the frozen ids."""
    from consent.faces import get_engine
    from consent.matching import face_match

    engine = get_engine()
    closest: dict[str, float] = {}
    for face in verified.faces.filter(engine=engine.name, model=engine.model):
        for hit in face_match(embedding=crypto.decrypt_embedding(bytes(face.embedding)), engine=engine):
            if hit.outcome == "match" and hit.likeness_id != str(verified.pk):
                closest[hit.likeness_id] = min(hit.distance, closest.get(hit.likeness_id, 9.0))
    frozen = []
    others = Likeness.objects.select_for_update().filter(pk__in=list(closest))
    for other in others:
        if other.owner_id == verified.owner_id or other.protected or other.verified_at is not None:
            continue  # the same person's, a moderator's entry, or someone verified too: for a moderator as it is
        if other.status == LikenessStatus.ERASED:
            continue
        if other.suspended_at is None:
            other.suspended_at, other.suspended_by, other.suspension_note = timezone.now(), None, FROZEN_NOTE
            other.save(update_fields=["suspended_at", "suspended_by", "suspension_note", "updated_at"])
        flag_open(
            actor=actor,
            kind=Flag.Kind.DISPUTE,
            likeness=other,
            reason="verified_person_claims_face",
            detail="%s verified themselves live, and their face matches this likeness registered by someone "
            "else without verification." % verified.display_name,
            evidence={
                "matches": [
                    {
                        "likeness_id": str(verified.pk),
                        "distance": round(closest[str(other.pk)], 4),
                        **engine.thresholds(),
                    }
                ],
                "verified_likeness": str(verified.pk),
                "verified_owner": verified.owner.username if verified.owner else None,
                "verification": verified.verification,
                "frozen_owner": other.owner.username if other.owner else None,
                "frozen_verification": other.verification or None,
                "distance": round(closest[str(other.pk)], 4),
                "engine": engine.thresholds(),
            },
        )
        audit_record(
            actor=actor,
            action="likeness.freeze",
            target=other,
            data={"verified_likeness": str(verified.pk), "distance": round(closest[str(other.pk)], 4)},
        )
        frozen.append(str(other.pk))
    if frozen and verified.status == LikenessStatus.DISPUTED:
        verified.status = LikenessStatus.ACTIVE
        verified.save(update_fields=["status", "updated_at"])
        _faces_enrolled(verified)
        for flag in Flag.objects.filter(kind=Flag.Kind.DISPUTE, likeness=verified, status=Flag.Status.OPEN):
            flag_close(
                flag=flag,
                actor=actor,
                decision="verified_live",
                note="The person verified themselves with a live selfie check; the other registration is frozen.",
            )
        audit_record(actor=actor, action="likeness.activate", target=verified, data={"frozen": frozen})
    return frozen


def likeness_verify(*, moderator: User, likeness: Likeness, note: str) -> Likeness:
    """A moderator verifies, with a note, that the likeness's owner is the person in its photos."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators verify a person.")
    if not note.strip():
        raise ValidationError({"note": ["Say how the person was verified."]}, code="note_required")
    if likeness.subject != Subject.SELF or likeness.protected:
        raise ValidationError("Only a self-registered likeness is verified this way.", code="not_self")
    return likeness_mark_verified(
        actor=moderator, likeness=likeness, how={"by": "moderator", "moderator": moderator.username, "note": note}
    )


def estates_activate(*, representative: User) -> list[str]:
    """The representative has just been verified: each deceased person's entry whose estate claim of
    theirs is verified, and that waited only for them, becomes active. Return the ids."""
    activated = []
    for likeness in Likeness.objects.select_for_update().filter(
        subject=Subject.DECEASED,
        status=LikenessStatus.PENDING_VERIFICATION,
        estate_claims__representative=representative,
        estate_claims__status=EstateClaim.Status.VERIFIED,
    ):
        likeness.status = LikenessStatus.ACTIVE
        likeness.save(update_fields=["status", "updated_at"])
        _faces_enrolled(likeness)
        audit_record(
            actor=representative, action="estate.activate", target=likeness, data={"representative_verified": True}
        )
        activated.append(str(likeness.pk))
    return activated


@transaction.atomic
def estate_claim_decide(*, moderator: User, claim: EstateClaim, verified: bool, note: str = "") -> EstateClaim:
    """Verify or reject an estate's claim; a verified claim makes the deceased person's entry active
    once its representative has passed their own live selfie check (``estates_activate``), when
    ``liveness_required()``."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators verify estates.")
    claim = EstateClaim.objects.select_for_update().get(pk=claim.pk)
    if claim.status != EstateClaim.Status.PENDING:
        raise ValidationError("This claim has already been decided.", code="not_open")
    claim.status = EstateClaim.Status.VERIFIED if verified else EstateClaim.Status.REJECTED
    claim.decided_by, claim.decided_at, claim.note = moderator, timezone.now(), note
    claim.save()
    likeness = Likeness.objects.select_for_update().get(pk=claim.likeness_id)
    waits_for_representative = liveness_required() and claim.representative.verified_at is None
    if verified and likeness.status == LikenessStatus.PENDING_VERIFICATION and not waits_for_representative:
        likeness.status = LikenessStatus.ACTIVE
        likeness.save(update_fields=["status", "updated_at"])
        _faces_enrolled(likeness)
    for flag in Flag.objects.filter(kind=Flag.Kind.ESTATE, likeness=likeness, status=Flag.Status.OPEN):
        flag_close(
            flag=flag,
            actor=moderator,
            decision="verified" if verified else "rejected",
            note=note,
            data={"claim": claim.pk},
        )
    audit_record(
        actor=moderator,
        action="estate.decide",
        target=likeness,
        data={"claim": claim.pk, "verified": verified, "note": note},
    )
    return claim


@transaction.atomic
def likeness_register_protected(
    *,
    moderator: User,
    display_name: str,
    aliases: list[str] | None = None,
    descriptors: list[str] | None = None,
    jurisdiction: str = "",
    subject: str = Subject.SELF,
    date_of_death: date | None = None,
) -> Likeness:
    """Register a protected entry (a public figure, say): enforced on prompts, never grants consent."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators register protected entries.")
    display_name, aliases = _clean_person_names(display_name=display_name, aliases=aliases or [], required=True)
    likeness = Likeness.objects.create(
        owner=None,
        created_by=moderator,
        display_name=display_name,
        handle=handle_suggest(display_name),
        aliases=aliases,
        descriptors=_clean_names(descriptors, field_name="descriptors", max_length=500),
        jurisdiction=(jurisdiction or "").strip()[:64],
        subject=Subject(subject),
        date_of_death=date_of_death,
        status=LikenessStatus.ACTIVE,
        protected=True,
    )
    ConsentVersion.objects.create(likeness=likeness, number=1, created_by=moderator)
    audit_record(actor=moderator, action="likeness.register_protected", target=likeness, data={"name": display_name})
    return likeness


#: Longest moderator note on a suspension.
SUSPENSION_NOTE_MAX_LENGTH = 2000


def _suspension_note(note: str | None) -> str:
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [ValidationError("Write a note: the person sees it.", code="required")]})
    if len(note) > SUSPENSION_NOTE_MAX_LENGTH:
        raise ValidationError({"note": ["At most %d characters." % SUSPENSION_NOTE_MAX_LENGTH]})
    return note


@transaction.atomic
def likeness_suspend(*, moderator: User, likeness: Likeness, note: str) -> Likeness:
    """Suspend a likeness: it grants nothing until a moderator lifts it; the person sees the note.

    The consent stays as the person set it (a moderator never changes it); lifting restores it.
    """
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators suspend a likeness.")
    note = _suspension_note(note)
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if locked.status == LikenessStatus.ERASED:
        raise ValidationError("An erased likeness grants nothing; there is nothing to suspend.", code="erased")
    if locked.protected:
        raise ValidationError("A protected entry never grants anything; there is nothing to suspend.", code="protected")
    if locked.suspended_at is not None:
        raise ValidationError("This likeness is already suspended.", code="suspended")
    locked.suspended_at, locked.suspended_by, locked.suspension_note = timezone.now(), moderator, note
    locked.save(update_fields=["suspended_at", "suspended_by", "suspension_note", "updated_at"])
    audit_record(actor=moderator, action="likeness.suspend", target=locked, data={"note": note})
    return locked


@transaction.atomic
def likeness_lift_suspension(*, moderator: User, likeness: Likeness, note: str) -> Likeness:
    """Lift a suspension: the consent the person set is in force again."""
    if not moderator.has_role(Role.MODERATOR):
        raise PermissionError("Only moderators lift a suspension.")
    note = _suspension_note(note)
    locked = Likeness.objects.select_for_update().get(pk=likeness.pk)
    if locked.suspended_at is None:
        raise ValidationError("This likeness is not suspended.", code="not_suspended")
    suspended = {"suspended_at": locked.suspended_at, "suspension_note": locked.suspension_note}
    locked.suspended_at, locked.suspended_by, locked.suspension_note = None, None, ""
    locked.save(update_fields=["suspended_at", "suspended_by", "suspension_note", "updated_at"])
    audit_record(
        actor=moderator, action="likeness.lift_suspension", target=locked, data={"note": note, "lifted": suspended}
    )
    return locked


CSV_COLUMNS = ("display_name", "aliases", "descriptors", "jurisdiction")


@dataclass(frozen=True)
class CsvRowError:
    line: int
    message: str


class CsvImportRejected(Exception):
    def __init__(self, errors: list[CsvRowError]) -> None:
        super().__init__("; ".join("line %d: %s" % (error.line, error.message) for error in errors))
        self.errors = errors


def protected_entries_import_csv(*, moderator: User, data: bytes, max_rows: int = 10_000) -> list[Likeness]:
    """Import protected entries from CSV (display_name, aliases, descriptors, jurisdiction; lists split on ';').

    Every row is checked first; one bad row imports nothing.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CsvImportRejected([CsvRowError(0, "The file is not UTF-8 text.")]) from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "display_name" not in reader.fieldnames:
        raise CsvImportRejected([CsvRowError(1, "The header must name the columns: %s." % ", ".join(CSV_COLUMNS))])
    unknown = set(reader.fieldnames) - set(CSV_COLUMNS)
    if unknown:
        raise CsvImportRejected([CsvRowError(1, "Unknown columns: %s." % ", ".join(sorted(unknown)))])
    rows, errors = [], []
    try:
        for row in reader:
            line = reader.line_num
            if len(rows) >= max_rows:
                errors.append(CsvRowError(line, "At most %d rows per import." % max_rows))
                break
            if None in row:
                errors.append(CsvRowError(line, "This row has more cells than the header."))
                continue
            name = " ".join((row.get("display_name") or "").split())
            if not name:
                errors.append(CsvRowError(line, "display_name is empty."))
                continue
            if len(name) > 200:
                errors.append(CsvRowError(line, "display_name has more than 200 characters."))
                continue
            split = lambda value: [part for part in (value or "").split(";") if part.strip()]  # noqa: E731
            aliases = split(row.get("aliases"))
            refused = [problem for value in [name, *aliases] if (problem := name_problem(" ".join(value.split())))]
            if refused:
                errors.extend(CsvRowError(line, " ".join(problem.messages)) for problem in refused)
                continue
            rows.append((name, aliases, split(row.get("descriptors")), (row.get("jurisdiction") or "")))
    except csv.Error as error:
        errors.append(CsvRowError(reader.line_num, "The file is not valid CSV (%s)." % error))
    if not rows and not errors:
        errors.append(CsvRowError(2, "The file has no rows."))
    if errors:
        raise CsvImportRejected(errors)
    created = []
    with transaction.atomic():
        for name, aliases, descriptors, jurisdiction in rows:
            try:
                created.append(
                    likeness_register_protected(
                        moderator=moderator,
                        display_name=name,
                        aliases=aliases,
                        descriptors=descriptors,
                        jurisdiction=jurisdiction,
                    )
                )
            except ValidationError as error:
                raise CsvImportRejected([CsvRowError(0, "%s: %s" % (name, " ".join(error.messages)))]) from error
    return created


def _iou(a: dict, b: dict) -> float:
    ax2, ay2, bx2, by2 = a["x"] + a["width"], a["y"] + a["height"], b["x"] + b["width"], b["y"] + b["height"]
    inter = max(0, min(ax2, bx2) - max(a["x"], b["x"])) * max(0, min(ay2, by2) - max(a["y"], b["y"]))
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union if union else 0.0


@dataclass(frozen=True)
class ReembedReport:
    photos: int
    faces_created: int
    faces_removed: int
    failures: tuple[str, ...]


def faces_reembed(*, engine: FaceEngine | None = None, actor: User | None = None) -> ReembedReport:
    """Re-enroll every stored photo with the current engine and model, replacing other engines' faces.

    Each photo's face is the detection that overlaps most with the face enrolled before. A
    photo that no longer yields that face keeps its old embedding and is reported.
    """
    from consent.faces import get_engine
    from consent.faces.base import load_image

    engine = engine or get_engine()
    photos = created = removed = 0
    failures = []
    for photo in LikenessPhoto.objects.select_related("likeness").order_by("created_at").iterator(chunk_size=100):
        photos += 1
        old_faces = list(photo.faces.all())
        if any(face.engine == engine.name and face.model == engine.model for face in old_faces):
            stale = [face for face in old_faces if (face.engine, face.model) != (engine.name, engine.model)]
        else:
            detected = engine.analyze(load_image(crypto.read_encrypted_file(photo.file_path)))
            reference = old_faces[0].box if old_faces else None
            if not detected or (reference and max(_iou(face.box.as_dict(), reference) for face in detected) < 0.3):
                failures.append("%s: the enrolled face was not found again" % photo.pk)
                continue
            chosen = max(detected, key=lambda face: _iou(face.box.as_dict(), reference)) if reference else detected[0]
            stale = old_faces
        with transaction.atomic():
            if not any(face.engine == engine.name and face.model == engine.model for face in old_faces):
                face = Face.objects.create(
                    likeness=photo.likeness,
                    photo=photo,
                    engine=engine.name,
                    model=engine.model,
                    dimension=int(chosen.embedding.shape[0]),
                    embedding=crypto.encrypt_embedding(chosen.embedding),
                    box=chosen.box.as_dict(),
                    detection_score=float(chosen.detection_score),
                )
                FaceIndexChange.objects.create(
                    face_id=face.pk,
                    likeness_id=photo.likeness_id,
                    engine=face.engine,
                    model=face.model,
                    op=FaceIndexChange.Op.ADD,
                )
                created += 1
            for face in stale:
                FaceIndexChange.objects.create(
                    face_id=face.pk,
                    likeness_id=photo.likeness_id,
                    engine=face.engine,
                    model=face.model,
                    op=FaceIndexChange.Op.REMOVE,
                )
                face.delete()
                removed += 1
    with transaction.atomic():
        audit_record(
            actor=actor,
            action="faces.reembed",
            data={
                "engine": engine.thresholds(),
                "photos": photos,
                "created": created,
                "removed": removed,
                "failures": len(failures),
            },
        )
    return ReembedReport(photos=photos, faces_created=created, faces_removed=removed, failures=tuple(failures))


def consent_request_open(*, likeness: Likeness, requester: User, use: str, prompt: str = "") -> ConsentRequest:
    """Ask the rights holder to approve one use (the same open request is reused)."""
    version = consent_current(likeness)
    with transaction.atomic():
        existing = ConsentRequest.objects.filter(
            likeness=likeness, consent_version=version, requester=requester, use=use, prompt=prompt
        ).first()
        if existing:
            return existing
        request = ConsentRequest.objects.create(
            likeness=likeness, consent_version=version, requester=requester, use=Use(use), prompt=prompt[:4000]
        )
        audit_record(
            actor=requester, action="consent.request", target=likeness, data={"request": str(request.pk), "use": use}
        )
    return request


@transaction.atomic
def consent_request_decide(*, actor: User, request: ConsentRequest, approve: bool) -> ConsentRequest:
    """The rights holder (or their verified estate) says yes or no to one request; nobody else may."""
    if not can_act_for(actor, request.likeness):
        raise PermissionError("Only the person, or their verified estate, answers a request to use their likeness.")
    request = ConsentRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ConsentRequest.Status.PENDING:
        raise ValidationError("This request has already been answered.", code="not_open")
    request.status = ConsentRequest.Status.APPROVED if approve else ConsentRequest.Status.DENIED
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at"])
    audit_record(
        actor=actor,
        action="consent.request_decide",
        target=request.likeness,
        data={"request": str(request.pk), "approved": approve},
    )
    transaction.on_commit(lambda: consent_answered.send(sender=ConsentRequest, request_id=request.pk))
    return request


def _faces_enrolled(likeness: Likeness) -> None:
    """Tell other apps, once the change is committed, that the likeness's faces can be searched for."""
    likeness_id = likeness.pk
    transaction.on_commit(lambda: faces_enrolled.send(sender=Likeness, likeness_id=likeness_id))

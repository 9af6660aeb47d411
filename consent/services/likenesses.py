"""A likeness and its faces: registration from photos (all or nothing), names, more photos,
erasure of the biometric data, and re-embedding after an engine change."""

import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role
from consent import crypto
from consent.access import can_edit_entry
from consent.enrollment import MESSAGES, AnalyzedPhoto, EnrollmentRejected, PhotoError, PhotoInput, photos_analyze
from consent.errors import EnrollmentError, NameRejection
from consent.faces.base import FaceEngine
from consent.handles import handle_clean, handle_suggest
from consent.models import (
    ConsentVersion,
    EstateClaim,
    Face,
    FaceIndexChange,
    Likeness,
    LikenessPhoto,
    LikenessStatus,
    Subject,
)
from consent.signals import biometrics_erased, faces_enrolled
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
    from consent.faces.index import face_search

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


def liveness_required() -> bool:
    """Whether a self-registered likeness waits for its person's live selfie check before it grants anything.

    On unless the setting ``SIGILLO_LIVENESS_REQUIRED`` turns it off (the README says what that gives up).
    """
    return bool(settings.SIGILLO_LIVENESS_REQUIRED)


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


def _faces_enrolled(likeness: Likeness) -> None:
    """Tell other apps, once the change is committed, that the likeness's faces can be searched for."""
    likeness_id = likeness.pk
    transaction.on_commit(lambda: faces_enrolled.send(sender=Likeness, likeness_id=likeness_id))

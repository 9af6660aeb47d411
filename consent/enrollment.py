"""Reading photos into faces for enrollment: every check that can refuse a photo, before anything is stored.

``photos_analyze`` runs the face engine on each photo and collects, per photo, the first
reason it cannot be used. Nothing here writes to the database or to disk.
"""

import io
import logging
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from PIL import Image

from consent.errors import EnrollmentError
from consent.faces import get_engine
from consent.faces.base import DetectedFace, EngineUnavailable, FaceEngine, ImageRejected, load_image, quality_problem

logger = logging.getLogger(__name__)

MESSAGES = {
    EnrollmentError.EMPTY_FILE: "The file is empty.",
    EnrollmentError.NOT_AN_IMAGE: "The file is not an image Sigillo can read (JPEG, PNG or WebP).",
    EnrollmentError.ANIMATED_IMAGE: "The image is animated; send a still photo (JPEG, PNG or WebP).",
    EnrollmentError.IMAGE_TOO_LARGE: "The image has too many pixels.",
    EnrollmentError.FILE_TOO_LARGE: "The file is larger than the upload limit.",
    EnrollmentError.NO_FACE: "No face was found in this photo.",
    EnrollmentError.FACE_TOO_SMALL: "The face is too small to be recognised reliably; use a closer or larger photo.",
    EnrollmentError.FACE_TOO_BLURRED: "The face is too blurred to be recognised reliably; use a sharper photo.",
    EnrollmentError.SEVERAL_FACES: "This photo shows several faces; say which one is the person being registered.",
    EnrollmentError.FACE_CHOICE_INVALID: "The chosen face does not exist in this photo.",
    EnrollmentError.DIFFERENT_PEOPLE: "This photo shows a different person from the other photos.",
    EnrollmentError.ALREADY_REGISTERED: "You have already registered this face.",
    EnrollmentError.NO_PHOTOS: "Add at least one photo.",
    EnrollmentError.TOO_MANY_PHOTOS: "Too many photos in one enrollment.",
    EnrollmentError.ENGINE_UNAVAILABLE: "Face matching is unavailable right now; nothing was registered.",
}


@dataclass(frozen=True)
class PhotoInput:
    """One uploaded photo, and which face in it is the person (when it shows several)."""

    name: str
    data: bytes
    face_index: int | None = None


@dataclass(frozen=True)
class PhotoError:
    index: int
    name: str
    code: EnrollmentError
    message: str
    faces: tuple[dict, ...] = ()

    def as_dict(self) -> dict:
        body = {"index": self.index, "name": self.name, "code": self.code.value, "message": self.message}
        if self.faces:
            body["faces"] = list(self.faces)
        return body


class EnrollmentRejected(Exception):
    """At least one photo cannot be enrolled; ``errors`` says which and why."""

    def __init__(self, errors: list[PhotoError]) -> None:
        super().__init__("; ".join("%s: %s" % (error.name, error.message) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class AnalyzedPhoto:
    input: PhotoInput
    image: Image.Image
    faces: tuple[DetectedFace, ...]
    chosen: DetectedFace | None

    def clean_bytes(self) -> bytes:
        """Re-encode the pixels only: EXIF (GPS included) and every other metadata are dropped."""
        out = io.BytesIO()
        Image.frombytes(self.image.mode, self.image.size, self.image.tobytes()).save(out, format="PNG", optimize=False)
        return out.getvalue()


def photo_inputs(files: list, face_index: list[int]) -> list[PhotoInput]:
    """Read uploaded files (API or web form) into PhotoInputs. ``face_index`` says which face on each
    photo is the person (-1: the engine decides); it counts only when there is one per photo."""
    choices = face_index if len(face_index) == len(files) else [-1] * len(files)
    return [
        PhotoInput(
            name=upload.name or "photo %d" % (position + 1),
            data=upload.read(),
            face_index=choice if choice is not None and choice >= 0 else None,
        )
        for position, (upload, choice) in enumerate(zip(files, choices, strict=True))
    ]


def face_summary(face: DetectedFace, engine: FaceEngine) -> dict:
    return {
        "box": face.box.as_dict(),
        "detection_score": round(float(face.detection_score), 4),
        "size": face.size,
        "blur": round(float(face.blur), 2),
        "quality_problem": quality_problem(face, settings.SIGILLO_FACE_MIN_SIZE, settings.SIGILLO_FACE_MIN_BLUR),
    }


def photos_analyze(
    *, photos: list[PhotoInput], engine: FaceEngine | None = None
) -> tuple[FaceEngine, list[AnalyzedPhoto]]:
    """Detect and embed the person's face on every photo, or raise EnrollmentRejected with every problem."""
    if not photos:
        raise EnrollmentRejected([PhotoError(0, "", EnrollmentError.NO_PHOTOS, MESSAGES[EnrollmentError.NO_PHOTOS])])
    if len(photos) > settings.SIGILLO_ENROLL_MAX_PHOTOS:
        error = EnrollmentError.TOO_MANY_PHOTOS
        message = "%s At most %d." % (MESSAGES[error], settings.SIGILLO_ENROLL_MAX_PHOTOS)
        raise EnrollmentRejected([PhotoError(0, "", error, message)])
    try:
        engine = engine or get_engine()
    except EngineUnavailable as unavailable:
        error = EnrollmentError.ENGINE_UNAVAILABLE
        logger.warning("face engine unavailable: %s", unavailable)  # the detail (paths) stays in the log
        raise EnrollmentRejected([PhotoError(0, "", error, MESSAGES[error])]) from None

    errors: list[PhotoError] = []
    analyzed: list[AnalyzedPhoto] = []
    for index, photo in enumerate(photos):
        result = _analyze_one(index, photo, engine)
        if isinstance(result, PhotoError):
            errors.append(result)
        else:
            analyzed.append(result)
    if not errors and len(analyzed) > 1:
        errors.extend(_different_people(analyzed, engine))
    if errors:
        raise EnrollmentRejected(errors)
    return engine, analyzed


def _reject(index: int, photo: PhotoInput, code: EnrollmentError, faces: tuple[dict, ...] = ()) -> PhotoError:
    return PhotoError(index, photo.name, code, MESSAGES[code], faces)


def _analyze_one(index: int, photo: PhotoInput, engine: FaceEngine) -> AnalyzedPhoto | PhotoError:
    if not photo.data:
        return _reject(index, photo, EnrollmentError.EMPTY_FILE)
    if len(photo.data) > settings.SIGILLO_UPLOAD_MAX_BYTES:
        return _reject(index, photo, EnrollmentError.FILE_TOO_LARGE)
    try:
        image = load_image(photo.data)
    except ImageRejected as rejected:
        code = (
            EnrollmentError(rejected.code)
            if rejected.code in EnrollmentError.__members__.values()
            else EnrollmentError.NOT_AN_IMAGE
        )
        return _reject(index, photo, code)
    try:
        faces = tuple(engine.analyze(image))
    except Exception as error:  # an engine failure refuses the photo: fail closed
        return PhotoError(
            index,
            photo.name,
            EnrollmentError.ENGINE_UNAVAILABLE,
            "%s (%s)" % (MESSAGES[EnrollmentError.ENGINE_UNAVAILABLE], type(error).__name__),
        )
    summaries = tuple(face_summary(face, engine) for face in faces)
    if not faces:
        return _reject(index, photo, EnrollmentError.NO_FACE)
    if photo.face_index is not None:
        if not 0 <= photo.face_index < len(faces):
            return _reject(index, photo, EnrollmentError.FACE_CHOICE_INVALID, summaries)
        chosen = faces[photo.face_index]
    elif len(faces) > 1:
        return _reject(index, photo, EnrollmentError.SEVERAL_FACES, summaries)
    else:
        chosen = faces[0]
    problem = quality_problem(chosen, settings.SIGILLO_FACE_MIN_SIZE, settings.SIGILLO_FACE_MIN_BLUR)
    if problem:
        return _reject(index, photo, EnrollmentError(problem), summaries)
    return AnalyzedPhoto(input=photo, image=image, faces=faces, chosen=chosen)


def _different_people(analyzed: list[AnalyzedPhoto], engine: FaceEngine) -> list[PhotoError]:
    """Refuse photos whose face does not match the others' (the majority decides who the person is)."""
    vectors = np.stack([photo.chosen.embedding for photo in analyzed])
    distances = np.linalg.norm(vectors[:, None, :] - vectors[None, :, :], axis=-1)
    agreeing = (distances <= engine.match_threshold).sum(axis=1)
    anchor = int(np.argmax(agreeing))
    return [
        _reject(index, photo.input, EnrollmentError.DIFFERENT_PEOPLE)
        for index, photo in enumerate(analyzed)
        if distances[anchor, index] > engine.match_threshold
    ]

"""Web forms of the likeness registry: they check the shape of the input and hand the rest to services.

Each form's ``save`` calls one service and turns what the service refuses (``ValidationError``,
``EnrollmentRejected``, ``PermissionError``) into form errors, so a page never answers 500 for
bad input and nothing is stored when it is refused.
"""

import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import selectors as account_selectors
from accounts.models import User
from accounts.roles import Role
from consent import services
from consent.enrollment import EnrollmentRejected, PhotoError, PhotoInput, photo_inputs
from consent.jobs import likeness_enroll_job
from consent.models import Audience, ConsentVersion, Likeness, Subject, Use
from consent.summary import consent_summary

#: Labels of the uses on the consent editor; adult content is never implied by anything else.
USE_LABELS = {
    Use.PERSONAL: "Personal",
    Use.PARODY: "Parody or satire",
    Use.COMMERCIAL: "Commercial (advertising, products)",
    Use.NEWS: "News or documentary",
    Use.POLITICAL: "Political",
    Use.ADULT: "Adult content (never implied: allowed only if you tick it)",
}


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the field it names, else on the whole form."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


class LinesField(forms.CharField):
    """A list of short texts typed one per line (names, descriptors, topics)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def __init__(self, *, max_line_length: int = 200, max_lines: int = 50, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.max_line_length = max_line_length
        self.max_lines = max_lines

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [" ".join(line.split()) for line in text.splitlines() if line.strip()]

    def validate(self, value: list[str]) -> None:  # type: ignore[override]
        super().validate("\n".join(value))
        too_long = [line for line in value if len(line) > self.max_line_length]
        if too_long:
            raise ValidationError(
                "Each line may have at most %(limit)d characters (one has %(length)d).",
                code="line_too_long",
                params={"limit": self.max_line_length, "length": len(too_long[0])},
            )
        if len(value) > self.max_lines:
            raise ValidationError("At most %(limit)d lines.", code="too_many_lines", params={"limit": self.max_lines})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list | tuple) else value


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/*"}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class FaceChoiceField(forms.Field):
    """Which face is the person on each photo (-1: let the engine decide); set by static/js/enroll.js."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        try:
            return [int(item) for item in value or []]
        except (TypeError, ValueError):
            raise ValidationError("Choose a face by its number.", code="invalid") from None


class UtcDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input, read and shown in UTC whatever the active time zone."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]

    def to_python(self, value: Any) -> datetime.datetime | None:
        with timezone.override(datetime.UTC):
            return super().to_python(value)

    def prepare_value(self, value: Any) -> Any:
        with timezone.override(datetime.UTC):
            return super().prepare_value(value)


class LikenessEnrollForm(forms.Form):
    """Register a likeness: names, who it is (oneself or a person who has died) and photos."""

    display_name = forms.CharField(label="Name", max_length=200)
    handle = forms.CharField(
        label="Cameo handle",
        max_length=31,
        required=False,
        help_text="What creators type to put this person in a prompt, e.g. @ada_lovelace. Made from the name if empty.",
    )
    aliases = LinesField(label="Other names", help_text="One per line: stage names, nicknames, spellings.")
    descriptors = LinesField(
        label="Descriptions",
        max_line_length=500,
        help_text="One per line: ways a prompt might describe this person without naming them.",
    )
    jurisdiction = forms.CharField(
        max_length=64, required=False, help_text="Where the person lives or lived, e.g. FR or US-CA."
    )
    subject = forms.ChoiceField(label="Who is this?", widget=forms.RadioSelect)
    date_of_death = forms.DateField(
        label="Date of death", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    estate_document = forms.FileField(
        label="Document proving your authority over the estate",
        required=False,
        help_text="A moderator checks it before the likeness is active. Stored encrypted.",
    )
    photos = MultipleFileField(
        help_text="Clear photos of the face, one person or several (then choose which is the person)."
    )
    face_index = FaceChoiceField(required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.photo_errors: list[PhotoError] = []
        choices = []
        if user.has_role(Role.RIGHTS_HOLDER):
            choices.append((Subject.SELF.value, "Myself"))
        if user.has_role(Role.ESTATE_REPRESENTATIVE):
            choices.append((Subject.DECEASED.value, "A person who has died, whose estate I represent"))
        else:
            del self.fields["date_of_death"], self.fields["estate_document"]
        self.fields["subject"].choices = choices
        self.fields["subject"].initial = choices[0][0] if choices else None

    def save(self) -> Likeness | None:
        """Enroll through ``likeness_enroll`` (in a worker); return None (with the errors on the form) if refused."""
        data = self.cleaned_data
        document = data.get("estate_document")
        try:
            likeness, _ = likeness_enroll_job(
                owner=self.user,
                display_name=data["display_name"],
                handle=data.get("handle") or None,
                aliases=data["aliases"],
                descriptors=data["descriptors"],
                jurisdiction=data["jurisdiction"],
                subject=data["subject"],
                date_of_death=data.get("date_of_death"),
                estate_document=PhotoInput(name=document.name, data=document.read()) if document else None,
                photos=photo_inputs(data["photos"], data["face_index"]),
            )
            return likeness
        except EnrollmentRejected as rejected:
            self.photo_errors = rejected.errors
            self.add_error(None, "Nothing was registered: see the problem with each photo.")
        except ValidationError as error:
            add_service_errors(self, error)
        except PermissionError as error:
            self.add_error(None, str(error))
        return None


class LikenessUpdateForm(forms.Form):
    display_name = forms.CharField(label="Name", max_length=200)
    handle = forms.CharField(
        label="Cameo handle", max_length=31, required=False, help_text="Creators type @handle in a prompt."
    )
    aliases = LinesField(label="Other names", help_text="One per line.")
    descriptors = LinesField(label="Descriptions", max_line_length=500, help_text="One per line.")
    jurisdiction = forms.CharField(max_length=64, required=False)

    def __init__(self, *args: Any, likeness: Likeness, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "display_name": likeness.display_name,
                "handle": likeness.handle or "",
                "aliases": likeness.aliases,
                "descriptors": likeness.descriptors,
                "jurisdiction": likeness.jurisdiction,
            },
        )
        super().__init__(*args, **kwargs)
        self.likeness = likeness

    def save(self, *, actor: User) -> Likeness | None:
        try:
            changes = {**self.cleaned_data, "handle": self.cleaned_data.get("handle") or None}  # empty: unchanged
            return services.likeness_update(actor=actor, likeness=self.likeness, **changes)
        except ValidationError as error:
            add_service_errors(self, error)
        except PermissionError as error:
            self.add_error(None, str(error))
        return None


class ConsentForm(forms.Form):
    """A new version of the consent policy; "preview" shows its summary without saving it."""

    audience = forms.ChoiceField(label="Who may use this likeness?", choices=Audience.choices, widget=forms.RadioSelect)
    uses = forms.MultipleChoiceField(
        label="For what?",
        choices=[(use.value, USE_LABELS[use]) for use in Use],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    approved_users = LinesField(
        label="Approved users",
        max_line_length=150,
        max_lines=1000,
        help_text="Usernames, one per line (for “Only the people I approve”).",
    )
    forbidden_topics = LinesField(
        label="Never for these topics", max_line_length=300, help_text="One per line, e.g. alcohol, gambling."
    )
    per_use_approval = forms.BooleanField(label="Ask me to approve each use", required=False)
    valid_from = UtcDateTimeField(label="Valid from (UTC)", required=False)
    valid_until = UtcDateTimeField(label="Valid until (UTC)", required=False)

    def __init__(self, *args: Any, likeness: Likeness, current: ConsentVersion | None, **kwargs: Any) -> None:
        if current is not None:
            kwargs.setdefault(
                "initial",
                {
                    "audience": current.audience,
                    "uses": current.uses,
                    "approved_users": account_selectors.usernames_by_id(current.approved_users),
                    "forbidden_topics": current.forbidden_topics,
                    "per_use_approval": current.per_use_approval,
                    "valid_from": current.valid_from,
                    "valid_until": current.valid_until,
                },
            )
        super().__init__(*args, **kwargs)
        self.likeness = likeness

    def clean_approved_users(self) -> list[int]:
        ids, unknown = account_selectors.user_ids_by_username(self.cleaned_data["approved_users"])
        if unknown:
            raise ValidationError(
                "No user has the name: %(names)s.", code="unknown", params={"names": ", ".join(unknown)}
            )
        return ids

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and end <= start:
            self.add_error("valid_until", "The end of validity must come after its start.")
        if data.get("audience") == Audience.APPROVED_USERS and "approved_users" in data and not data["approved_users"]:
            self.add_error("approved_users", "Name at least one approved user.")
        return data

    def preview(self) -> str:
        """Return the summary of the policy as typed, without saving anything."""
        return consent_summary(ConsentVersion(likeness=self.likeness, **self.cleaned_data))

    def save(self, *, actor: User) -> ConsentVersion | None:
        try:
            return services.consent_set(actor=actor, likeness=self.likeness, **self.cleaned_data)
        except ValidationError as error:
            add_service_errors(self, error)
        except PermissionError as error:
            self.add_error(None, str(error))
        return None


class SuspensionForm(forms.Form):
    """A moderator suspends a likeness (the person sees the note) or lifts the suspension."""

    note = forms.CharField(max_length=services.SUSPENSION_NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, likeness: Likeness, lift: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.likeness = likeness
        self.lift = lift
        if lift:
            self.fields["note"].label = "Why lift the suspension?"
            self.fields["note"].help_text = "Kept in the audit trail."
        else:
            self.fields["note"].label = "Why suspend it?"
            self.fields["note"].help_text = "The person sees this note. While suspended, the likeness grants nothing."

    def save(self, *, moderator: User) -> Likeness | None:
        service = services.likeness_lift_suspension if self.lift else services.likeness_suspend
        try:
            return service(moderator=moderator, likeness=self.likeness, note=self.cleaned_data["note"])
        except ValidationError as error:
            add_service_errors(self, error)
        except PermissionError as error:
            self.add_error(None, str(error))
        return None


class EraseForm(forms.Form):
    keep_name = forms.BooleanField(
        label="Keep my name as a do-not-generate entry",
        required=False,
        help_text="Photos and face data go either way; the name stays only to refuse prompts that use it.",
    )
    confirm_name = forms.CharField(
        label="Type the name to confirm", max_length=200, help_text="Erasure cannot be undone."
    )

    def __init__(self, *args: Any, likeness: Likeness, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.likeness = likeness

    def clean_confirm_name(self) -> str:
        typed = " ".join(self.cleaned_data["confirm_name"].split())
        if typed.casefold() != self.likeness.display_name.casefold():
            raise ValidationError("Type the name exactly as registered to confirm.", code="mismatch")
        return typed

    def save(self, *, actor: User) -> Likeness | None:
        try:
            return services.likeness_erase(
                actor=actor, likeness=self.likeness, keep_name=self.cleaned_data["keep_name"]
            )
        except ValidationError as error:
            add_service_errors(self, error)
        except PermissionError as error:
            self.add_error(None, str(error))
        return None

"""Web forms of moderation: decisions on flags and protected entries (they call services)."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from accounts.models import User
from consent import services as consent_services
from consent.forms import LinesField, add_service_errors
from consent.models import Likeness
from moderation import services
from moderation.models import Flag

DECISION_LABELS = {
    (Flag.Kind.DISPUTE, "legitimate"): "Legitimate: lift the dispute",
    (Flag.Kind.DISPUTE, "rejected"): "Not legitimate: erase its face data",
    (Flag.Kind.DISPUTE, "transfer"): "Give it to the person verified live (its consent reset to nobody)",
    (Flag.Kind.ESTATE, "verified"): "Authority verified",
    (Flag.Kind.ESTATE, "rejected"): "Reject the claim",
    (Flag.Kind.GATE_REVIEW, "approve"): "Approve: allow the request",
    (Flag.Kind.GATE_REVIEW, "reject"): "Reject: block the request",
    (Flag.Kind.GATE_REVIEW, "escalate"): "Escalate",
    (Flag.Kind.LIVENESS, "verified"): "The same person, live: verify them",
    (Flag.Kind.LIVENESS, "rejected"): "Not verified",
}


class FlagDecisionForm(forms.Form):
    decision = forms.ChoiceField(widget=forms.RadioSelect)
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, flag: Flag, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flag = flag
        kind = Flag.Kind(flag.kind)
        allowed = services.DECISIONS.get(kind, ())
        if kind == Flag.Kind.DISPUTE and not (flag.evidence or {}).get("verified_likeness"):
            allowed = tuple(decision for decision in allowed if decision != "transfer")  # nobody verified to give it to
        self.fields["decision"].choices = [(decision, DECISION_LABELS[kind, decision]) for decision in allowed]
        if kind == Flag.Kind.GATE_REVIEW:
            # Required by the service, which says so on the form; no HTML "required", so the
            # moderator sees that message rather than the browser's.
            self.fields["note"].label = "Note (required)"
            self.fields["note"].help_text = "Say why; the note is kept with the decision and in the audit trail."

    @staticmethod
    def outcome_message(flag: Flag) -> str:
        if flag.status == Flag.Status.ESCALATED:
            return "Flag escalated (severity %d)." % flag.severity
        return "Flag decided: %s." % flag.decision

    def save(self, *, moderator: User) -> Flag | None:
        try:
            return services.flag_decide(moderator=moderator, flag=self.flag, **self.cleaned_data)
        except ValidationError as error:
            add_service_errors(self, error)
        except PermissionError as error:
            self.add_error(None, str(error))
        return None


class ProtectedEntryForm(forms.Form):
    display_name = forms.CharField(label="Name", max_length=200)
    aliases = LinesField(label="Other names", help_text="One per line.")
    descriptors = LinesField(label="Descriptions", max_line_length=500, help_text="One per line.")
    jurisdiction = forms.CharField(max_length=64, required=False)

    def save(self, *, moderator: User) -> Likeness | None:
        try:
            return consent_services.likeness_register_protected(moderator=moderator, **self.cleaned_data)
        except ValidationError as error:
            add_service_errors(self, error)
        except PermissionError as error:
            self.add_error(None, str(error))
        return None


class ProtectedImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: display_name, aliases, descriptors, jurisdiction; several aliases or descriptors "
        "separated by “;”. One bad row imports nothing.",
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.row_errors: list[consent_services.CsvRowError] = []

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > settings.SIGILLO_UPLOAD_MAX_BYTES:
            raise ValidationError("The file is larger than the upload limit.", code="too_large")
        return upload

    def save(self, *, moderator: User) -> list[Likeness] | None:
        try:
            return consent_services.protected_entries_import_csv(
                moderator=moderator, data=self.cleaned_data["file"].read()
            )
        except consent_services.CsvImportRejected as rejected:
            self.row_errors = rejected.errors
            self.add_error("file", "Nothing was imported: see the problem with each row.")
        except PermissionError as error:
            self.add_error(None, str(error))
        return None

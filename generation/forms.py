"""The studio's request form."""

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from consent.forms import add_service_errors
from consent.models import Use
from generation.models import Generation
from generation.services import generation_request
from moderation.gate import MAX_CAMEOS, MediaInput


class GenerationForm(forms.Form):
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    kind = forms.ChoiceField(choices=Generation.Kind.choices, initial=Generation.Kind.IMAGE, widget=forms.RadioSelect)
    use = forms.ChoiceField(choices=Use.choices, initial=Use.PERSONAL)
    cameos = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    reference = forms.FileField(
        label="Reference image",
        required=False,
        help_text="Optional. A photo to start from; it is checked like a prompt: faces in it must be your cameos.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    backend = forms.ChoiceField(label="Model", required=False)

    def __init__(self, *args: Any, cameos: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cameo_options = cameos
        self.fields["cameos"].choices = [(cameo.id, cameo.name) for cameo in cameos]
        backends = [("animatic", "Animatic (storyboard from the cameo photos)")]
        if settings.SIGILLO_DIFFUSERS_MODEL:
            backends.append(("diffusers", "Diffusion model"))
        self.fields["backend"].choices = backends
        self.fields["backend"].initial = settings.SIGILLO_GENERATION_BACKEND

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"].strip()
        if len(prompt) > settings.SIGILLO_PROMPT_MAX_LENGTH:
            raise forms.ValidationError("At most %d characters." % settings.SIGILLO_PROMPT_MAX_LENGTH)
        return prompt

    def clean_cameos(self) -> list[str]:
        cameos = self.cleaned_data["cameos"]
        if len(cameos) > MAX_CAMEOS:
            raise forms.ValidationError("At most %d cameos." % MAX_CAMEOS)
        return cameos

    def save(self, *, requester: Any) -> Generation | None:
        """Request the generation; return None (with the errors on the form) if the request is refused."""
        data = self.cleaned_data
        upload = data.get("reference")
        try:
            return generation_request(
                requester=requester,
                prompt=data["prompt"],
                kind=data["kind"],
                use=data["use"],
                cameos=list(data["cameos"]),
                reference=MediaInput(name=upload.name, data=upload.read()) if upload else None,
                backend=data.get("backend") or None,
            )
        except ValidationError as error:
            add_service_errors(self, error)
        return None

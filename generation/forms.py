"""The studio's request form."""

from typing import Any

from django import forms
from django.conf import settings

from consent.models import Use
from generation.models import Generation


class GenerationForm(forms.Form):
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}))
    kind = forms.ChoiceField(choices=Generation.Kind.choices, initial=Generation.Kind.IMAGE, widget=forms.RadioSelect)
    use = forms.ChoiceField(choices=Use.choices, initial=Use.PERSONAL)
    cameos = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, cameos: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cameo_options = cameos
        self.fields["cameos"].choices = [(cameo.id, cameo.name) for cameo in cameos]

    def clean_prompt(self) -> str:
        prompt = self.cleaned_data["prompt"].strip()
        if len(prompt) > settings.SIGILLO_PROMPT_MAX_LENGTH:
            raise forms.ValidationError("At most %d characters." % settings.SIGILLO_PROMPT_MAX_LENGTH)
        return prompt

    def clean_cameos(self) -> list[str]:
        cameos = self.cleaned_data["cameos"]
        if len(cameos) > 10:
            raise forms.ValidationError("At most 10 cameos.")
        return cameos

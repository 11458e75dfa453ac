"""Forms of the prompts back office. Their ``clean`` runs the services' own validation, so a
refusal shows next to the field with the exact message the API would give."""

from django import forms

from core.errors import DomainError
from prompts.configuration import REGISTRY, config_validate
from prompts.models import CONTENT_FIELDS, ApiStyle, Configuration, Prompt, VersionKind
from prompts.services.versions import version_content_validate, version_labels_check


def _raise_as_form_errors(form: forms.Form, exc: DomainError) -> None:
    """Put each detail of a service refusal on the field it names (else on the form)."""
    details = exc.details if isinstance(exc.details, list) else []
    placed = False
    for detail in details:
        field = str(detail.get("field", "")).split(".")[0].split("[")[0]
        if field in form.fields:
            form.add_error(field, f"{detail.get('field')}: {detail.get('reason')}")
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def tags_from_text(text: str) -> list[str]:
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def labels_from_text(text: str) -> list[str]:
    return [label.strip() for label in text.split(",") if label.strip()]


class VersionContentForm(forms.Form):
    """The content of a version: what "save as new version" and "add prompt" ask for."""

    actor = None  # who saves: set by the admin, so label permissions are checked on the form

    kind = forms.ChoiceField(choices=VersionKind.choices, initial=VersionKind.CHAT)
    messages = forms.JSONField(
        required=False,
        initial=list,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100}),
        help_text='For kind chat: [{"role": "system", "content": "..."}, ...] (Jinja2 templates).',
    )
    template = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "cols": 100}),
        help_text="For kind text: one Jinja2 template.",
    )
    variables_schema = forms.JSONField(
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
        help_text='A JSON Schema with "type": "object", its properties and required.',
    )
    model = forms.CharField(required=False, help_text="Empty: the default_model configuration.")
    parameters = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 100}),
        help_text="temperature, top_p, max_output_tokens, seed, reasoning_effort.",
    )
    output_schema = forms.JSONField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 100})
    )
    api_style = forms.ChoiceField(choices=ApiStyle.choices, required=False)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 100}))
    labels = forms.CharField(
        required=False,
        help_text="Comma-separated labels to move to this version (production: admins).",
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        content = {field: cleaned.get(field) for field in CONTENT_FIELDS}
        content["messages"] = content["messages"] or []
        content["template"] = content["template"] or ""
        content["parameters"] = content["parameters"] or {}
        content["model"] = content["model"] or ""
        content["api_style"] = content["api_style"] or ""
        try:
            cleaned["content"] = version_content_validate(**content)
        except DomainError as exc:
            _raise_as_form_errors(self, exc)
        cleaned["label_list"] = labels_from_text(cleaned.get("labels") or "")
        try:  # production needs an admin: say so on the form, not after a failed save
            version_labels_check(labels=cleaned["label_list"], author=self.actor)
        except DomainError as exc:
            self.add_error("labels", exc.message)
        return cleaned

    def version_kwargs(self) -> dict:
        return {**self.cleaned_data["content"], "note": self.cleaned_data.get("note") or ""}


class PromptAddForm(forms.ModelForm):
    tags_text = forms.CharField(required=False, label="Tags", help_text="Comma-separated.")

    class Meta:
        model = Prompt
        fields = ("slug", "name", "description")


class PromptAddWithVersionForm(PromptAddForm):
    """A new prompt and its first version on one page."""

    actor = None

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.version_form = VersionContentForm(self.data if self.is_bound else None)
        self.version_form.actor = self.actor
        self.fields.update(self.version_form.fields)

    def clean(self) -> dict:
        cleaned = super().clean()
        self.version_form.is_valid()
        for field, errors in self.version_form.errors.items():
            for error in errors:
                self.add_error(field if field != "__all__" else None, error)
        cleaned.update(getattr(self.version_form, "cleaned_data", {}))
        cleaned["tags"] = tags_from_text(cleaned.get("tags_text") or "")
        return cleaned


class PromptChangeForm(forms.ModelForm):
    tags_text = forms.CharField(required=False, label="Tags", help_text="Comma-separated.")

    class Meta:
        model = Prompt
        fields = ("name", "description")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["tags_text"].initial = ", ".join(self.instance.tags)


class LabelMoveForm(forms.Form):
    label = forms.CharField(max_length=36)
    version = forms.TypedChoiceField(coerce=int)
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 80}))
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, numbers: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(n, f"v{n}") for n in numbers]


class PreviewForm(forms.Form):
    version = forms.TypedChoiceField(coerce=int)
    variables = forms.JSONField(
        initial=dict, widget=forms.Textarea(attrs={"rows": 10, "cols": 100})
    )

    def __init__(self, *args, numbers: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["version"].choices = [(n, f"v{n}") for n in numbers]

    def clean_variables(self):
        value = self.cleaned_data["variables"]
        if not isinstance(value, dict):
            raise forms.ValidationError("Variables must be a JSON object.")
        return value


class DiffForm(forms.Form):
    a = forms.TypedChoiceField(coerce=int, label="From")
    b = forms.TypedChoiceField(coerce=int, label="To")

    def __init__(self, *args, numbers: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("a", "b"):
            self.fields[name].choices = [(n, f"v{n}") for n in numbers]


class ConfigurationForm(forms.ModelForm):
    """A declared key and its value, validated by the key's JSON Schema (as the API does)."""

    key = forms.ChoiceField(
        choices=[(key, f"{key}: {declared.description}") for key, declared in REGISTRY.items()]
    )
    value = forms.JSONField(required=False, widget=forms.Textarea(attrs={"rows": 6, "cols": 100}))

    class Meta:
        model = Configuration
        fields = ("key", "value")

    def clean(self) -> dict:
        cleaned = super().clean()
        key = cleaned.get("key") or self.instance.key
        if key:
            try:
                config_validate(key=key, value=cleaned.get("value"))
            except DomainError as exc:
                _raise_as_form_errors(self, exc)
        return cleaned

    def validate_unique(self) -> None:
        pass  # an existing key is updated by config_set, never duplicated

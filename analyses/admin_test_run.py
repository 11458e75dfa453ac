"""The back office's "test run": submit a real analysis of a prompt with sample variables.

It lives in analyses (the floors forbid prompts from importing analyses); the prompt admin links
here by URL name. The view calls the same admission service as ``POST /api/v1/analyses``, as the
signed-in staff member, so a test run is validated, budgeted, audited and queued like any other.
"""

import re
import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from analyses.services.submission import analysis_submit
from core.errors import DomainError

MAX_FILES = 20  # as the API's AnalysisIn.file_ids
_PLACEHOLDERS: dict[str, Any] = {
    "string": "sample",
    "integer": 1,
    "number": 1,
    "boolean": True,
    "array": [],
    "object": {},
}


def sample_variables(schema: dict | None) -> dict[str, Any]:
    """A starting point for the form: each declared property with its example, default or a
    placeholder of its type. Only a suggestion; the service validates what is submitted."""
    properties = (schema or {}).get("properties") or {}
    sample = {}
    for name, spec in properties.items():
        spec = spec if isinstance(spec, dict) else {}
        if spec.get("examples"):
            sample[name] = spec["examples"][0]
        elif "default" in spec:
            sample[name] = spec["default"]
        elif spec.get("enum"):
            sample[name] = spec["enum"][0]
        else:
            kind = spec.get("type")
            sample[name] = _PLACEHOLDERS.get(kind if isinstance(kind, str) else "string", "sample")
    return sample


class TestRunForm(forms.Form):
    prompt = forms.CharField(max_length=64, help_text="The prompt's slug.")
    label = forms.CharField(
        max_length=36, required=False, help_text="Empty with no version: production, else latest."
    )
    version = forms.IntegerField(min_value=1, max_value=2_147_483_647, required=False)
    variables = forms.JSONField(initial=dict, help_text="A JSON object.")
    file_ids = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Ids of your ready files, separated by commas or spaces.",
    )
    cache = forms.BooleanField(required=False, help_text="Reuse an identical recent result.")

    def clean_variables(self) -> dict:
        value = self.cleaned_data["variables"]
        if not isinstance(value, dict):
            raise forms.ValidationError("Variables must be a JSON object.")
        return value

    def clean_file_ids(self) -> list[uuid.UUID]:
        parts = [part for part in re.split(r"[\s,]+", self.cleaned_data["file_ids"]) if part]
        try:
            ids = [uuid.UUID(part) for part in parts]
        except ValueError:
            raise forms.ValidationError("Each file id must be a UUID.") from None
        if len(set(ids)) != len(ids):
            raise forms.ValidationError("File ids must not repeat.")
        if len(ids) > MAX_FILES:
            raise forms.ValidationError(f"At most {MAX_FILES} files.")
        return ids

    def clean(self):
        data = super().clean()
        if data.get("label") and data.get("version"):
            self.add_error("version", "Give a label or a version, not both.")
        return data


def _initial(request: HttpRequest) -> dict[str, Any]:
    """Prefill from ``?prompt=<slug>``: the slug and sample variables of the version it resolves to."""
    from prompts import selectors as prompt_selectors

    slug = request.GET.get("prompt", "")[:64]
    initial: dict[str, Any] = {"prompt": slug, "variables": {}}
    if slug:
        try:
            version = prompt_selectors.prompt_version_resolve(slug=slug)
        except DomainError:
            return initial  # the form says what is wrong when it is submitted
        initial["variables"] = sample_variables(version.variables_schema)
    return initial


class TestRunViews:
    """Mixed into ``AnalysisAdmin``: /admin/analyses/analysis/test-run/."""

    def test_run_urls(self, path) -> list:
        view = self.admin_site.admin_view(self.test_run_view)
        return [path("test-run/", view, name="analyses_analysis_test_run")]

    def test_run_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):  # whoever may see analyses may start one
            raise DjangoPermissionDenied
        if request.method == "POST":
            form = TestRunForm(request.POST)
            if form.is_valid():
                submitted = self._test_run_submit(request, form)
                if submitted is not None:
                    self.message_user(
                        request,
                        f"Test run queued as analysis {submitted.pk}.",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(
                        reverse("admin:analyses_analysis_change", args=[submitted.pk])
                    )
        else:
            form = TestRunForm(initial=_initial(request))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Test run",
            "form": form,
        }
        return TemplateResponse(request, "admin/analyses/analysis/test_run.html", context)

    def _test_run_submit(self, request: HttpRequest, form: TestRunForm):
        """The analysis, or None with the service's refusal put on the form (never a 500)."""
        data = form.cleaned_data
        try:
            return analysis_submit(
                user=request.user,
                prompt_slug=data["prompt"],
                label=data["label"] or None,
                version=data["version"],
                variables=data["variables"],
                file_ids=data["file_ids"],
                use_cache=data["cache"],
            ).analysis
        except DomainError as error:
            form.add_error(None, f"{error.message} ({error.code})")
            for detail in error.details if isinstance(error.details, list) else []:
                if isinstance(detail, dict) and detail.get("reason"):
                    form.add_error(None, f"{detail.get('field', '')}: {detail['reason']}")
            return None

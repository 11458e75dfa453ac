"""The prompt tools of the back office: save as new version, move a label (with confirmation),
compare two versions, preview a rendering. Each view calls the same service as the API."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse

from core.errors import DomainError
from core.permissions import is_admin, is_staff_member
from prompts import selectors
from prompts.admin_forms import (
    CONTENT_FIELDS,
    DiffForm,
    LabelMoveForm,
    PreviewForm,
    VersionContentForm,
)
from prompts.models import PRODUCTION, Prompt
from prompts.rendering import prompt_render
from prompts.services.labels import prompt_label_move
from prompts.services.versions import prompt_version_create


class PromptToolViews:
    """Mixed into ``PromptAdmin``: extra pages under /admin/prompts/prompt/<id>/."""

    def tool_urls(self, path):
        wrap = self.admin_site.admin_view
        return [
            path("<uuid:pk>/new-version/", wrap(self.new_version_view), name="prompts_prompt_new_version"),
            path("<uuid:pk>/label/", wrap(self.label_view), name="prompts_prompt_label"),
            path("<uuid:pk>/diff/", wrap(self.diff_view), name="prompts_prompt_diff"),
            path("<uuid:pk>/preview/", wrap(self.preview_view), name="prompts_prompt_preview"),
        ]  # fmt: skip

    def _page(
        self, request: HttpRequest, prompt: Prompt, template: str, title: str, **extra
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": prompt,
            "prompt": prompt,
            "title": f"{title}: {prompt.slug}",
            "change_url": reverse("admin:prompts_prompt_change", args=[prompt.pk]),
            **extra,
        }
        return TemplateResponse(request, f"admin/prompts/prompt/{template}", context)

    def _prompt(self, request: HttpRequest, pk) -> Prompt:
        if not is_staff_member(request.user):
            raise DjangoPermissionDenied
        return get_object_or_404(Prompt, pk=pk)

    def _numbers(self, prompt: Prompt) -> list[int]:
        return list(prompt.versions.order_by("-number").values_list("number", flat=True))

    def new_version_view(self, request: HttpRequest, pk) -> HttpResponse:
        prompt = self._prompt(request, pk)
        latest = prompt.versions.order_by("-number").first()
        if request.method == "POST":
            form = VersionContentForm(request.POST)
            form.actor = request.user
            if form.is_valid():
                try:
                    version = prompt_version_create(
                        prompt=prompt,
                        author=request.user,
                        labels=form.cleaned_data["label_list"],
                        **form.version_kwargs(),
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    self.message_user(request, f"Saved version {version.number}.", messages.SUCCESS)
                    return HttpResponseRedirect(
                        reverse("admin:prompts_prompt_change", args=[prompt.pk])
                    )
        else:
            initial = {field: getattr(latest, field) for field in CONTENT_FIELDS} if latest else {}
            form = VersionContentForm(initial=initial)
        return self._page(
            request, prompt, "new_version.html", "Save as new version", form=form, latest=latest
        )

    def label_view(self, request: HttpRequest, pk) -> HttpResponse:
        prompt = self._prompt(request, pk)
        form = LabelMoveForm(
            request.POST or None, numbers=self._numbers(prompt), initial=request.GET.dict()
        )
        confirming = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            if data["label"] == PRODUCTION and not is_admin(request.user):
                form.add_error("label", "Only admins may move the production label.")
            elif not data["confirmed"]:
                current = selectors.labels_of(prompt).get(data["label"])
                confirming = {"label": data["label"], "from": current, "to": data["version"]}
                form = LabelMoveForm(
                    initial={**data, "confirmed": True}, numbers=self._numbers(prompt)
                )
            else:
                try:
                    prompt_label_move(
                        prompt=prompt,
                        label=data["label"],
                        version=data["version"],
                        actor=request.user,
                        note=data["note"],
                    )
                except DomainError as exc:
                    form.add_error(None, exc.message)
                else:
                    self.message_user(
                        request, f"Label {data['label']} now points at v{data['version']}."
                    )
                    return HttpResponseRedirect(
                        reverse("admin:prompts_prompt_change", args=[prompt.pk])
                    )
        return self._page(
            request, prompt, "label.html", "Move a label",
            form=form, confirming=confirming, labels=selectors.labels_of(prompt),
        )  # fmt: skip

    def diff_view(self, request: HttpRequest, pk) -> HttpResponse:
        prompt = self._prompt(request, pk)
        numbers = self._numbers(prompt)
        form = DiffForm(request.GET or None, numbers=numbers)
        diff = None
        if form.is_valid():
            diff = selectors.prompt_version_diff(
                a=selectors.prompt_version_get(prompt=prompt, number=form.cleaned_data["a"]),
                b=selectors.prompt_version_get(prompt=prompt, number=form.cleaned_data["b"]),
            )
            diff["changes_json"] = json.dumps(diff["changes"], indent=2, ensure_ascii=False)
        return self._page(request, prompt, "diff.html", "Compare versions", form=form, diff=diff)

    def preview_view(self, request: HttpRequest, pk) -> HttpResponse:
        prompt = self._prompt(request, pk)
        numbers = self._numbers(prompt)
        result = error = None
        if request.method == "POST":
            form = PreviewForm(request.POST, numbers=numbers)
            if form.is_valid():
                version = selectors.prompt_version_get(
                    prompt=prompt, number=form.cleaned_data["version"]
                )
                try:
                    result = prompt_render(
                        version=version, variables=form.cleaned_data["variables"]
                    )
                except DomainError as exc:
                    error = {"code": exc.code, "message": exc.message, "details": exc.details}
        else:
            form = PreviewForm(
                initial={
                    "version": request.GET.get("version") or (numbers[0] if numbers else None),
                    "variables": {},
                },
                numbers=numbers,
            )
        return self._page(
            request, prompt, "preview.html", "Preview", form=form, result=result, error=error
        )

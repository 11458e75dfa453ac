"""Rows the analyses tests build on: a prompt with a version and a production label."""

from prompts.models import Prompt, PromptLabel, PromptVersion

SUMMARY_SCHEMA = {
    "type": "object",
    "properties": {"text": {"type": "string", "minLength": 1}},
    "required": ["text"],
    "additionalProperties": False,
}


def prompt_create(
    *,
    slug: str = "summary",
    model: str = "gpt-4o-mini",
    max_output_tokens: int = 100,
    output_schema: dict | None = None,
    variables_schema: dict | None = None,
    messages: list[dict] | None = None,
    label: str | None = "production",
) -> PromptVersion:
    """A chat prompt at version 1 (``{{ text }}`` in the user message), labelled ``label``."""
    prompt = Prompt.objects.create(slug=slug, name=slug.title())
    version = PromptVersion(
        prompt=prompt,
        number=1,
        kind="chat",
        messages=messages
        or [
            {"role": "system", "content": "Summarise the text."},
            {"role": "user", "content": "{{ text }}"},
        ],
        variables_schema=variables_schema or SUMMARY_SCHEMA,
        model=model,
        parameters={"max_output_tokens": max_output_tokens},
        output_schema=output_schema,
    )
    version.save()
    if label:
        PromptLabel.objects.create(prompt=prompt, name=label, version=version)
    return version


def version_add(*, prompt: Prompt, number: int, model: str = "gpt-4o-mini") -> PromptVersion:
    previous = prompt.versions.order_by("-number").first()
    version = PromptVersion(
        prompt=prompt,
        number=number,
        kind="chat",
        messages=previous.messages,
        variables_schema=previous.variables_schema,
        model=model,
        parameters=previous.parameters,
    )
    version.save()
    return version


def file_create(*, owner, text: str = "", status: str = "ready", name: str = "notes.txt"):
    """A text file row as the files app leaves it after extraction (no blob needed for text)."""
    import hashlib
    import uuid

    from files.models import ExtractedText, File

    file = File.objects.create(
        owner=owner,
        storage_key=f"test/{uuid.uuid4().hex}",
        name=name,
        size=len(text.encode()),
        content_type="text/plain",
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        status=status,
        text_chars=len(text),
    )
    ExtractedText.objects.create(file=file, text=text)
    return file


FILES_SCHEMA = {
    "type": "object",
    "properties": {"files": {"type": "array"}},
    "required": ["files"],
}
FILES_MESSAGES = [
    {"role": "system", "content": "Compare the documents."},
    {"role": "user", "content": "{% for f in files %}[{{ f.name }}] {{ f.text }}\n{% endfor %}"},
]

"""Prompts made through the services (so hashes, numbers, labels and audit are real)."""

from prompts.models import Prompt

THREE_MESSAGES = [
    {
        "role": "system",
        "content": "You are a careful {{ domain }} reviewer. Answer in {{ language }}.",
    },
    {"role": "developer", "content": "Be concise.{% if strict %} Refuse to guess.{% endif %}"},
    {
        "role": "user",
        "content": "Review this {{ doc_type }}:\n{% for line in lines %}- {{ line }}\n{% endfor %}",
    },
]
FIVE_VARIABLES_SCHEMA = {
    "type": "object",
    "properties": {
        "domain": {"type": "string", "minLength": 1},
        "language": {"type": "string", "enum": ["English", "Portuguese"]},
        "strict": {"type": "boolean"},
        "doc_type": {"type": "string"},
        "lines": {"type": "array", "items": {"type": "string"}, "maxItems": 100},
    },
    "required": ["domain", "language", "doc_type", "lines"],
}
FIVE_VARIABLES = {
    "domain": "contract",
    "language": "English",
    "strict": True,
    "doc_type": "lease",
    "lines": ["Rent is due monthly.", "Deposit: two months."],
}


def version_content(**overrides) -> dict:
    content = {
        "kind": "chat",
        "messages": THREE_MESSAGES,
        "variables_schema": FIVE_VARIABLES_SCHEMA,
        "model": "gpt-4o-mini",
        "parameters": {"temperature": 0.2, "max_output_tokens": 800},
        "note": "first",
    }
    content.update(overrides)
    return content


def prompt_make(
    *, slug: str = "contract-review", actor=None, labels=("production",), **overrides
) -> Prompt:
    """A prompt with one version (three messages, five variables), labelled ``production``."""
    from prompts.services.prompts import prompt_create

    return prompt_create(
        slug=slug,
        name=slug.replace("-", " ").title(),
        description="Reviews a document.",
        tags=["legal"],
        actor=actor,
        version=version_content(**overrides),
        labels=labels,
    )


def version_add(prompt: Prompt, *, actor=None, labels=(), **overrides):
    from prompts.services.versions import prompt_version_create

    return prompt_version_create(
        prompt=prompt, author=actor, labels=labels, **version_content(**overrides)
    )

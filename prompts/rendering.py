"""Rendering a prompt version: sandboxed Jinja2, variables checked by JSON Schema first.

Templates are Jinja2 in a ``SandboxedEnvironment`` (no attribute access into Python internals)
with ``StrictUndefined`` (a misspelt variable is an error, not an empty string) and autoescape
off (prompts are not HTML). The sandbox alone does not bound work or memory, so this module adds
caps (``prompts.template_limits``): every string the template builds stays under
``MAX_OUTPUT_CHARS``, loops run at most ``MAX_LOOP_ITERATIONS`` times per render in total, and
the output is counted while it streams.
"""

import hashlib
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.errors import InvalidInput
from prompts.models import PromptVersion, VersionKind, canonical_json
from prompts.template_limits import (
    MAX_OUTPUT_CHARS,
    RenderBudget,
    RenderLimitExceeded,
    environment,
)

# Token estimate: about four characters per token for English prose with OpenAI's tokenizers,
# plus a few tokens of framing per chat message. tiktoken would be exact but downloads its
# encodings at run time, which this deployment can't; the estimate is for budgeting, and the
# provider's reported usage is what gets billed.
CHARS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


@dataclass(frozen=True)
class RenderedPrompt:
    messages: list[dict]
    sha256: str
    estimated_input_tokens: int


def estimate_tokens(messages: list[dict]) -> int:
    """The documented heuristic: ceil(chars / 4) per message plus 4 tokens of framing each."""
    return sum(
        math.ceil(len(message["content"]) / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE
        for message in messages
    )


def _sources(*, kind: str, messages: list[dict], template: str) -> list[tuple[str, str, str]]:
    """(field name, role, template source) for each part of a version's content."""
    if kind == VersionKind.TEXT:
        return [("template", "user", template)]
    return [
        (f"messages[{index}].content", message["role"], message["content"])
        for index, message in enumerate(messages)
    ]


def template_syntax_check(*, kind: str, messages: list[dict], template: str) -> None:
    """Refuse (422 ``template_syntax_error``) content that doesn't compile, naming where."""
    problems = []
    for field, _, source in _sources(kind=kind, messages=messages, template=template):
        try:
            environment.parse(source)
        except TemplateSyntaxError as exc:
            problems.append(
                {
                    "field": field,
                    "in": "body",
                    "reason": f"line {exc.lineno}: {exc.message}",
                    "type": "template_syntax",
                    "line": exc.lineno,
                }
            )
    if problems:
        raise InvalidInput(
            "A template does not compile: "
            + "; ".join(f"{p['field']} {p['reason']}" for p in problems),
            code="template_syntax_error",
            details=problems,
        )


def variables_schema_check(*, schema: Any, field: str = "variables_schema") -> None:
    """Refuse a variables schema that isn't a Draft 2020-12 object schema (422, naming why)."""
    if not isinstance(schema, dict) or schema.get("type") != "object":
        raise InvalidInput(
            "The variables schema must be a JSON Schema with type 'object'.",
            details=[
                {"field": field, "in": "body", "reason": "type must be 'object'", "type": "schema"}
            ],
        )
    json_schema_check(schema=schema, field=field)


def _external_refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [
            value
            for key, value in node.items()
            if key in ("$ref", "$dynamicRef")
            and isinstance(value, str)
            and not value.startswith("#")
        ]
        return found + [ref for value in node.values() for ref in _external_refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _external_refs(value)]
    return []


def json_schema_check(*, schema: Any, field: str) -> None:
    """Refuse anything that isn't a valid Draft 2020-12 JSON Schema (422 naming the problem).

    References must stay inside the schema (``#/$defs/...``): resolving a URL would make
    rendering depend on (and fetch from) somewhere else, so it is refused at save time.
    """
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise InvalidInput(
            f"{field} is not a valid JSON Schema: {exc.message}",
            details=[{"field": field, "in": "body", "reason": exc.message, "type": "schema"}],
        ) from None
    external = _external_refs(schema)
    if external:
        reason = f"only local references ('#/...') are allowed, not {external[0]!r}"
        raise InvalidInput(
            f"{field}: {reason}",
            details=[{"field": field, "in": "body", "reason": reason, "type": "schema"}],
        )


@lru_cache(maxsize=64)
def _validator(schema_json: str) -> Draft202012Validator:
    import json

    return Draft202012Validator(json.loads(schema_json))


def variables_validate(*, schema: dict, variables: dict) -> None:
    """Check ``variables`` against the version's schema; 422 ``variables_invalid`` naming each one.

    Variables not declared in the schema are refused even when the schema leaves
    ``additionalProperties`` open: a typo in a variable name must not pass silently.
    """
    problems = []
    declared = schema.get("properties", {})
    for name in sorted(set(schema.get("required", [])) - set(variables)):
        problems.append(_problem(name, f"'{name}' is required", "missing"))
    if schema.get("additionalProperties") is None:
        for name in sorted(set(variables) - set(declared)):
            problems.append(_problem(name, f"'{name}' is not a declared variable", "unexpected"))
    try:
        errors = list(_validator(canonical_json(schema)).iter_errors(variables))
    except Exception as exc:  # e.g. a local $ref that points nowhere: the schema's fault
        raise InvalidInput(
            f"The prompt's variables schema cannot be applied: {exc}"[:500],
            code="variables_schema_invalid",
            details=[
                {"field": "variables", "in": "body", "reason": str(exc)[:300], "type": "schema"}
            ],
        ) from None
    for error in errors:
        if not error.absolute_path and error.validator in ("required", "additionalProperties"):
            if error.validator == "additionalProperties":
                for name in sorted(set(variables) - set(declared)):
                    problems.append(
                        _problem(name, f"'{name}' is not a declared variable", "unexpected")
                    )
            continue  # each missing name is already listed above
        path = ".".join(str(part) for part in error.absolute_path)
        problems.append(_problem(path or "variables", error.message, error.validator))
    if problems:
        names = ", ".join(dict.fromkeys(p["field"] for p in problems))
        raise InvalidInput(
            f"The variables do not match the prompt's schema: {names}.",
            code="variables_invalid",
            details=problems,
        )


def _problem(name: str, reason: str, kind: str) -> dict:
    field = name if name == "variables" else f"variables.{name}"
    return {"field": field, "in": "body", "reason": reason, "type": kind}


@lru_cache(maxsize=512)
def _compiled(content_hash: str, kind: str, sources: tuple[str, ...]) -> tuple:
    """Compiled templates of one version, cached in process by its content hash (immutable)."""
    return tuple(environment.from_string(source) for source in sources)


def prompt_render(*, version: PromptVersion, variables: dict) -> RenderedPrompt:
    """Validate ``variables`` then render every message of ``version``; no LLM call."""
    variables_validate(schema=version.variables_schema, variables=variables)
    parts = _sources(kind=version.kind, messages=version.messages, template=version.template)
    templates = _compiled(version.content_hash, version.kind, tuple(p[2] for p in parts))
    budget = RenderBudget()
    rendered = []
    for (field, role, _), template in zip(parts, templates, strict=True):
        try:
            with budget.active():
                content = budget.collect(template.generate(**variables))
        except RenderLimitExceeded as exc:
            raise _template_error(field, str(exc), "limit") from None
        except SecurityError as exc:
            raise _template_error(field, f"not allowed in a template: {exc}", "security") from None
        except UndefinedError as exc:
            raise _template_error(field, exc.message or "undefined", "undefined") from None
        except (
            TemplateError,
            ArithmeticError,
            TypeError,
            ValueError,
            LookupError,
            RecursionError,
        ) as exc:
            raise _template_error(field, f"{type(exc).__name__}: {exc}"[:500], "render") from None
        rendered.append({"role": role, "content": content})
    digest = hashlib.sha256(canonical_json(rendered).encode("utf-8")).hexdigest()
    return RenderedPrompt(
        messages=rendered, sha256=digest, estimated_input_tokens=estimate_tokens(rendered)
    )


def _template_error(field: str, reason: str, kind: str) -> InvalidInput:
    return InvalidInput(
        f"The template could not be rendered ({field}): {reason}",
        code="template_error",
        details=[{"field": field, "in": "body", "reason": reason, "type": kind}],
    )


__all__ = ["MAX_OUTPUT_CHARS", "RenderedPrompt", "prompt_render", "variables_validate"]

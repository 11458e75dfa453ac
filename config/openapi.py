"""The OpenAPI schema as a contract: what ninja generates, made strict for generated clients.

ninja writes the responses each route declares with integer status keys; the shared outcomes
(COMMON_ERRORS) are added here as strings. Mixed, ``401`` and ``"401"`` are two dict keys that
serialise to one JSON key twice: Swagger UI and openapi-typescript refuse such a document. So
every status key is a string here, and a route's own declaration wins over the shared one.

Rules applied to every operation, so no route has to remember them:
- the shared errors (400, 413, 415, 422, 429, 500, 503) with the error envelope, and 414 (the
  HTTP server's own answer to an over-long request line);
- 401 and 403 on every operation that needs credentials (an API key of the wrong scope, a
  person-only call made with a key, a role check, a CSRF failure in cookie mode);
- 404 on every operation with a path parameter (an unknown id, or one you may not see);
- a clean ``operationId`` (``auth_login``, ``audit_events_list``, ``users_get``);
- request bodies under ``components/requestBodies``, so generators that treat a property with a
  default as always present (openapi-typescript) keep request fields with defaults optional;
- no component schema that nothing references (query-parameter models such as ``Input``);
- the rules a JSON schema cannot express (RULES_BEYOND_THE_SCHEMA) in the operation's description.
"""

import re
from typing import Any

from ninja.operation import Operation

ENVELOPE = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}

COMMON_ERRORS = {
    "400": "Malformed request (for example a body that is not JSON).",
    "413": "Request body too large.",
    "415": "Unsupported Content-Type.",
    "422": "Validation failed; `details` lists each field and reason.",
    "429": "Throttled; see `Retry-After`.",
    "500": "Unexpected error (never a traceback).",
    "503": "Database or cache unavailable; see `Retry-After`.",
}
# Refused by the HTTP server in front of the app (gunicorn's request-line limit, a proxy's)
# before any code of ours runs: its body is that server's, not the envelope.
SERVER_LIMITS = {
    "414": {
        "description": "Request line too long (over 4 KiB): the HTTP server's own page, not JSON.",
        "content": {"text/html": {"schema": {"type": "string"}}},
    }
}
AUTHENTICATED_ERRORS = {
    "401": "Missing, invalid or expired credentials.",
    "403": "Authenticated, but not allowed (role, API key scope, person-only call, CSRF).",
}
PATH_PARAMETER_ERRORS = {"404": "No such object, or one you may not see."}

PASSWORD_POLICY = (
    "the password must pass the password policy (at least 8 characters, not common, not all "
    "digits, not like the e-mail): 422 `validation_error`"
)
# Rules a JSON schema cannot express, by operationId: a request the schema allows may still be
# refused for them. Each is added to its operation's description, and listed under the
# ``x-rules-beyond-schema`` extension (scripts/contract-fuzz.sh reads it: for these operations a
# schema-valid request may be a 422).
SPECIAL_USE_EMAIL = (
    "`email` may not be at a special-use or reserved domain (`.test`, `.invalid`, `.local`, "
    "`localhost`, ...): 422 `validation_error`"
)
# The content of a prompt version is checked the same way by the API, the admin and imports
# (prompts/services/versions.py); none of it is a JSON Schema keyword.
VERSION_CONTENT = (
    "a version's content must make sense as a whole: `kind` `chat` needs 1 to 50 `messages` and "
    "an empty `template`, `text` a 1 to 100000 character `template` and no `messages`; every "
    "template must compile (sandboxed Jinja) and use only variables `variables_schema` declares; "
    "`variables_schema` must be a valid Draft 2020-12 schema of `type` `object` and "
    "`output_schema` a valid one; `model` (empty: the `default_model` configuration) must be in "
    "the `allowed_models` configuration: 422 `validation_error`, `template_syntax_error`, "
    "`template_variable_undeclared` or `model_not_allowed`"
)
TAGS = "each of `tags` must match `[a-z0-9_.-]{1,40}`: 422 `validation_error`"
LABEL_NAMES = (
    "each label must match `[a-z0-9_.-]{1,36}` and may not be `latest` (it always means the "
    "newest version): 422 `label_invalid` or `label_reserved`"
)
RESERVED_LABEL = (
    "the label may not be `latest` (it always means the newest version): 422 `label_reserved`"
)
# gunicorn/Django refuse a body over REQUEST_MAX_BYTES before it is parsed; these bodies may be
# schema-valid and larger (50 messages of 100000 characters).
BODY_LIMIT = (
    "the whole body is at most `REQUEST_MAX_BYTES` (1 MiB by default): 413 `payload_too_large`"
)
VARIABLES = (
    "`variables` must satisfy the resolved version's `variables_schema` (see GET "
    "/prompts/{slug}): 422 `variables_invalid` (`variables_schema_invalid` when that schema cannot "
    "be applied); a template that fails to render with them (a "
    "render limit, an undefined value) is a 422 `template_error`"
)
RULES_BEYOND_THE_SCHEMA: dict[str, list[str]] = {
    "auth_register": [PASSWORD_POLICY, SPECIAL_USE_EMAIL],
    "auth_me_update": [SPECIAL_USE_EMAIL],
    "auth_logout": [
        "send `refresh_token` (or the refresh cookie), or `everywhere: true`: 422 "
        "`refresh_token_required`"
    ],
    "auth_password_change": [PASSWORD_POLICY.replace("the password", "`new_password`")],
    "auth_password_reset_confirm": [
        "`uid` and `token` must come from a reset link that is unused and under 1 hour old: "
        "422 `invalid_reset_link`",
        PASSWORD_POLICY.replace("the password", "`new_password`"),
    ],
    "auth_email_verify_confirm": [
        "`uid` and `token` must come from the latest verification link: 422 `invalid_link`"
    ],
    "auth_api_key_create": [
        "`expires_at`, when given, must be in the future and at most 10 years ahead: 422 "
        "`validation_error`"
    ],
    "audit_events_create": [
        "`action` may not be under a namespace Parecer records itself (`audit.`, `auth.`, "
        "`user.`, `users.`, `sessions.`, `api_key.`, `prompt.`, `analysis.`, `file.`): 422 "
        "`reserved_action`",
        "`occurred_at` may not be in the future: 422 `validation_error`",
        "`details` is at most 64 KiB as canonical JSON: 413 `details_too_large`",
    ],
    "files_upload": [
        "the bytes decide the type: one outside `upload_allowed_types`, or contradicting the "
        "declared type, is a 415 `unsupported_file_type`; over the size limit or the quota a 413"
    ],
    "audit_events_list": ["`since` must not be after `until`: 422 `validation_error`"],
    "audit_events_export": ["`since` must not be after `until`: 422 `validation_error`"],
    "prompts_create": [VERSION_CONTENT, TAGS, LABEL_NAMES, BODY_LIMIT],
    "prompts_version_create": [VERSION_CONTENT, LABEL_NAMES, BODY_LIMIT],
    "prompts_update": [TAGS],
    "prompts_get": ["give `label` or `version`, not both: 422 `label_and_version`"],
    "prompts_label_move": [RESERVED_LABEL],
    "prompts_label_remove": [RESERVED_LABEL],
    "prompts_render_preview": [VARIABLES],
    "prompts_import": [
        "each entry of `prompts` must be a prompt as GET /prompts/{slug}/export writes it (slug, "
        "name, versions with their content, labels), each version passing the checks of POST "
        "/prompts/{slug}/versions and matching its `content_hash` when it states one: 422 "
        "`import_invalid` or the version's own code"
    ],
    "configurations_set": [
        "`value` must satisfy the key's `value_schema` (GET /configurations/{key}): 422 "
        "`configuration_invalid`"
    ],
    "analyses_analysis_create": [
        VARIABLES,
        "the resolved version's `model` must still be in the `allowed_models` configuration: 422 "
        "`model_not_allowed`",
    ],
}

# The name a router's operations carry in their ids when it is not the router's tag.
OPERATION_PREFIXES = {"audits": "audit_events"}
OPERATION_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


def operation_id_for(operation: Operation) -> str:
    """``<collection>_<action>``: the router's tag, then the view's name without the repeated noun.

    ``users`` + ``user_list`` -> ``users_list``; ``audits`` + ``audit_event_get`` ->
    ``audit_events_get``; ``auth`` + ``login`` -> ``auth_login``. An explicit ``operation_id=``
    on the route wins over this (ninja asks for it only when the route has none).
    """
    name = operation.view_func.__name__
    tag = (operation.tags or ["service"])[0]
    prefix = OPERATION_PREFIXES.get(tag, tag)
    for noun in dict.fromkeys((_singular(prefix), prefix, _singular(tag), tag)):
        if name.startswith(noun + "_"):
            name = name[len(noun) + 1 :]
            break
    return f"{prefix}_{name}" if name != prefix else prefix


def _declare(responses: dict, errors: dict[str, str]) -> None:
    for status, description in errors.items():
        responses.setdefault(status, {"description": description, **ENVELOPE})


def _normalise_responses(operation: dict) -> None:
    responses = {str(status): body for status, body in operation.get("responses", {}).items()}
    _declare(responses, COMMON_ERRORS)
    for status, body in SERVER_LIMITS.items():
        responses.setdefault(status, body)
    if operation.get("security"):
        _declare(responses, AUTHENTICATED_ERRORS)
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        _declare(responses, PATH_PARAMETER_ERRORS)
    operation["responses"] = dict(sorted(responses.items()))


def _document_rules(operation: dict) -> None:
    rules = RULES_BEYOND_THE_SCHEMA.get(operation["operationId"])
    if rules:
        listed = "\n".join(f"- {rule}" for rule in rules)
        described = operation.get("description", "").rstrip()
        operation["description"] = f"{described}\n\nRules beyond the schema:\n{listed}".lstrip()
        operation["x-rules-beyond-schema"] = rules


def _move_request_bodies(schema: dict) -> None:
    """Each body's schema is copied into components/requestBodies and the operation refers there
    (the copy in components/schemas goes unless something else refers to it)."""
    schemas = schema["components"]["schemas"]
    bodies = schema["components"].setdefault("requestBodies", {})
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            body = operation.get("requestBody")
            if not body or "application/json" not in body.get("content", {}):
                continue  # no body, or a multipart upload: its form fields stay where they are
            body_schema = body["content"]["application/json"]["schema"]
            # An optional body (``payload: X | None = None``) is anyOf X or null.
            choices = [
                choice for choice in body_schema.get("anyOf", [body_schema]) if "$ref" in choice
            ]
            if len(choices) != 1:
                continue
            name = choices[0]["$ref"].rsplit("/", 1)[-1]
            if name not in schemas:
                continue
            # It stays nullable: the server accepts a JSON null there, so the schema says so.
            moved = (
                schemas[name]
                if choices == body_schema.get("anyOf", [body_schema])
                else {
                    **body_schema,
                    "anyOf": [
                        schemas[name] if "$ref" in choice else choice
                        for choice in body_schema["anyOf"]
                    ],
                }
            )
            bodies[name] = {
                "content": {"application/json": {"schema": moved}},
                "required": body.get("required", False),
            }
            operation["requestBody"] = {"$ref": f"#/components/requestBodies/{name}"}


def _references(node: Any) -> set[str]:
    """Names of the component schemas ``node`` refers to directly."""
    found: set[str] = set()
    pending = [node]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                found.add(ref.rsplit("/", 1)[-1])
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _drop_unreferenced_schemas(schema: dict) -> None:
    schemas = schema["components"]["schemas"]
    outside = {key: value for key, value in schema["components"].items() if key != "schemas"}
    pending = _references([schema.get("paths", {}), outside])
    used: set[str] = set()
    while pending:
        name = pending.pop()
        if name not in used:
            used.add(name)
            pending |= _references(schemas.get(name, {}))
    for name in set(schemas) - used:
        del schemas[name]


def contract_schema(schema: dict, *, error_schemas: dict) -> dict:
    """Apply the contract's rules (module docstring) to the schema ninja generated."""
    schema.setdefault("components", {}).setdefault("schemas", {}).update(error_schemas)
    for methods in schema.get("paths", {}).values():
        for operation in methods.values():
            _normalise_responses(operation)
            _document_rules(operation)
    _move_request_bodies(schema)
    _drop_unreferenced_schemas(schema)
    return schema

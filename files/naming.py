"""Names: the display name kept from the client (sanitised) and the storage key (generated)."""

import unicodedata
import uuid

MAX_NAME_LENGTH = 200
FALLBACK_NAME = "upload"

# Bidirectional overrides/isolates can disguise "gpj.exe" as "exe.jpg"; Unicode category Cf
# covers them together with zero-width characters.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def display_name_sanitise(raw: str | None) -> str:
    """The client's file name made safe to show and to put in ``Content-Disposition``.

    Keeps only the last path component (both separators), drops control, format (bidi,
    zero-width), surrogate and unassigned characters, collapses whitespace, strips leading dots
    (no hidden files or ``..``), and caps the length while keeping the extension.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if char.isspace() else char
        for char in name
        if unicodedata.category(char) not in _DROPPED_CATEGORIES or char.isspace()
    )
    name = " ".join(name.split()).lstrip(". ").rstrip(" ")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, extension = name.rpartition(".")
        if dot and 0 < len(extension) <= 16:
            name = stem[: MAX_NAME_LENGTH - len(extension) - 1].rstrip() + "." + extension
        else:
            name = name[:MAX_NAME_LENGTH].rstrip()
    return name or FALLBACK_NAME


def storage_key_new(*, owner_id: uuid.UUID) -> str:
    """``files/<owner prefix>/<uuid>``: unguessable, unique, and spread over prefixes."""
    return f"files/{owner_id.hex[:8]}/{uuid.uuid4().hex}"


def extension_of(name: str) -> str:
    _, dot, extension = name.rpartition(".")
    return extension.lower() if dot else ""

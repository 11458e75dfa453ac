"""What a file is, decided by its bytes (puremagic's signatures plus checks of our own).

puremagic knows binary formats by their signatures but not text formats, and it cannot tell a
DOCX from any other ZIP; so ZIPs are opened (central directory only) and text is decoded and
checked here. The client's declaration (part Content-Type, else the extension) only chooses
between text formats and is refused when the bytes contradict it.
"""

import codecs
import csv
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

import charset_normalizer
import puremagic

from core.errors import DomainError
from files.naming import extension_of

SAMPLE_BYTES = 64 * 1024

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
TEXT_TYPES = ("text/plain", "text/markdown", "text/csv", "application/json")
OCTET_STREAM = "application/octet-stream"

# Declared types are normalised to these before comparing with what the bytes say.
_ALIASES = {
    "text/x-markdown": "text/markdown",
    "application/x-markdown": "text/markdown",
    "application/csv": "text/csv",
    "text/comma-separated-values": "text/csv",
    "text/json": "application/json",
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
}
_BY_EXTENSION = {
    "txt": "text/plain",
    "text": "text/plain",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "json": "application/json",
    "pdf": "application/pdf",
    "docx": DOCX,
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
}
_KNOWN = set(_BY_EXTENSION.values())
_GENERIC = {"", OCTET_STREAM, "text/plain", "binary/octet-stream"}


@dataclass(frozen=True)
class Detected:
    content_type: str
    description: str
    charset: str = ""


class UnsupportedType(DomainError):
    def __init__(self, message: str, *, detected: str, description: str, declared: str = ""):
        super().__init__(
            message,
            code="unsupported_file_type",
            status=415,
            details={"detected": detected, "description": description, "declared": declared},
        )


def declared_type(*, content_type: str, name: str) -> str:
    """What the client says: the part's Content-Type, or the extension when that is generic."""
    declared = _ALIASES.get(content_type.strip().lower(), content_type.strip().lower())
    if declared in _GENERIC:
        return _BY_EXTENSION.get(extension_of(name), declared)
    return declared


def _zip_kind(stream: BinaryIO) -> Detected:
    try:
        names = set(zipfile.ZipFile(stream).namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return Detected("application/zip", "damaged ZIP archive")
    if "word/document.xml" in names and "[Content_Types].xml" in names:
        return Detected(DOCX, "Word document (DOCX)")
    if "xl/workbook.xml" in names:
        return Detected(XLSX, "Excel workbook (XLSX)")
    if "ppt/presentation.xml" in names:
        return Detected(PPTX, "PowerPoint presentation (PPTX)")
    return Detected("application/zip", "ZIP archive")


def _unicode_charset(sample: bytes, *, complete: bool) -> str | None:
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        return None
    try:
        # Incremental: a sample cut inside a multi-byte character is still UTF-8.
        codecs.getincrementaldecoder("utf-8-sig")().decode(sample, final=complete)
    except UnicodeDecodeError:
        return None
    return "utf-8"


def text_charset(sample: bytes, *, complete: bool) -> str | None:
    """The sample's encoding if it is text (UTF-8 first, then charset detection), else None."""
    unicode_charset = _unicode_charset(sample, complete=complete)
    if unicode_charset or b"\x00" in sample:
        return unicode_charset
    best = charset_normalizer.from_bytes(sample).best()
    return best.encoding if best is not None else None


def _looks_like_csv(text: str) -> bool:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(lines) < 2:
        return len(lines) == 1 and "," in lines[0]
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|")
    except csv.Error:
        return False
    widths = {len(row) for row in csv.reader(lines, dialect)}
    return len(widths) <= 2 and max(widths) > 1


def _text_kind(sample: bytes, *, complete: bool, declared: str) -> Detected:
    charset = text_charset(sample, complete=complete)
    if charset is None:
        return Detected(OCTET_STREAM, "binary data")
    text = sample.decode(charset, errors="replace").lstrip("\ufeff")
    if declared == "application/json":
        if text.lstrip()[:1] in ("{", "["):
            return Detected("application/json", "JSON", charset)
        return Detected("text/plain", "text that does not start like a JSON document", charset)
    if declared == "text/csv":
        if _looks_like_csv(text):
            return Detected("text/csv", "CSV", charset)
        return Detected("text/plain", "text without a consistent CSV structure", charset)
    if declared == "text/markdown":
        return Detected("text/markdown", "Markdown", charset)
    return Detected("text/plain", "plain text", charset)


def _is_strict_text(sample: bytes, *, complete: bool) -> bool:
    return _unicode_charset(sample, complete=complete) is not None


def _signature_kind(sample: bytes) -> Detected | None:
    try:
        matches = puremagic.magic_string(sample)
    except (puremagic.PureError, ValueError):
        return None
    if not matches:
        return None
    best = matches[0]
    description = best.name or best.extension or "unknown binary data"
    mime = best.mime_type
    if not mime or mime == OCTET_STREAM:
        mime = "application/x-executable" if "executable" in description.lower() else OCTET_STREAM
    return Detected(mime, description)


def content_type_detect(*, stream: BinaryIO, size: int, declared: str) -> Detected:
    """The type of the bytes in ``stream`` (rewound), or ``UnsupportedType`` (415) when the bytes
    contradict ``declared``. Whether the type is *allowed* is the caller's decision."""
    stream.seek(0)
    sample = stream.read(SAMPLE_BYTES)
    complete = size <= len(sample)
    if sample.startswith(b"PK\x03\x04"):
        detected = _zip_kind(stream)
    elif sample.startswith(b"%PDF-"):
        detected = Detected("application/pdf", "PDF document")
    elif _is_strict_text(sample, complete=complete):
        # Clean UTF-8 is text whatever signature it happens to start with ("ID3,..." is a CSV,
        # not an MP3); executables and images are never valid UTF-8.
        detected = _text_kind(sample, complete=complete, declared=declared)
    else:
        detected = _signature_kind(sample) or _text_kind(
            sample, complete=complete, declared=declared
        )
    stream.seek(0)
    if declared in _KNOWN and declared != detected.content_type:
        raise UnsupportedType(
            f"The file was declared {declared} but its bytes are {detected.content_type} "
            f"({detected.description}).",
            detected=detected.content_type,
            description=detected.description,
            declared=declared,
        )
    return detected

"""Text and facts out of a document, run in a child process with hard caps.

Nothing here imports Django: ``extraction_run`` (files/processing.py) starts
``python -m files.extraction`` with the limits as JSON on stdin; the child caps its own address
space and CPU time (``resource``), the parent kills it past the wall-clock cap, and a crash in a
native parser (PDFium, libxml2, an image codec) costs one child, never the worker. The result is
one JSON object on stdout: ``{"text", "page_count", "truncated", "width", "height", "charset"}``
or ``{"error_code", "error_message"}``.
"""

import codecs
import json
import resource
import sys
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from typing import Any

WESTERN_ENCODINGS = ("cp1252", "latin_1", "iso8859_15")
WESTERN_CHAOS_MARGIN = 0.2


@dataclass
class Extracted:
    text: str = ""
    page_count: int | None = None
    truncated: bool = False
    width: int | None = None
    height: int | None = None
    charset: str = ""
    details: dict = field(default_factory=dict)


class ExtractionRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _capped(parts: list[str], max_chars: int) -> tuple[str, bool]:
    text = "\n".join(parts)
    return (text[:max_chars], True) if len(text) > max_chars else (text, False)


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, charset)``: UTF-8 (with or without BOM) or UTF-16 with BOM, else detected;
    undecodable bytes become U+FFFD instead of failing the file."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    import charset_normalizer

    matches = list(charset_normalizer.from_bytes(data[: 4 * 1024 * 1024]))
    if not matches:
        return data.decode("utf-8", errors="replace"), "utf-8 (invalid bytes replaced)"
    best = matches[0]
    # Telling Latin code pages apart is a guess on short texts (cp1257 and cp1252 both "fit"
    # French); Windows-1252 is by far the most common legacy encoding, so it wins whenever it
    # decodes about as cleanly as the best guess. Other scripts (cp1251, Shift-JIS) are not
    # affected: cp1252 reads them as noise.
    western = next((m for m in matches if m.encoding in WESTERN_ENCODINGS), None)
    if western is not None and western.chaos <= best.chaos + WESTERN_CHAOS_MARGIN:
        best = western
    return data.decode(best.encoding, errors="replace"), best.encoding


def extract_text_file(path: str, *, content_type: str, max_chars: int) -> Extracted:
    with open(path, "rb") as handle:
        data = handle.read()
    text, charset = decode_text(data)
    text = text.replace("\x00", "\ufffd")  # PostgreSQL text cannot hold NUL
    if content_type == "application/json":
        try:
            json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ExtractionRefused(
                "invalid_json", f"Not a JSON document: {str(exc)[:120]}"
            ) from None
    capped, truncated = _capped([text], max_chars)
    return Extracted(text=capped, truncated=truncated, charset=charset)


def extract_pdf(path: str, *, max_pages: int, max_chars: int) -> Extracted:
    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as exc:
        message = str(exc)
        if "password" in message.lower():
            raise ExtractionRefused("pdf_encrypted", "The PDF is password-protected.") from None
        raise ExtractionRefused(
            "pdf_unreadable", f"The PDF cannot be read: {message[:120]}"
        ) from None
    try:
        page_count = len(document)
        parts: list[str] = []
        chars = 0
        for index in range(min(page_count, max_pages)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                parts.append(textpage.get_text_range())
                textpage.close()
            finally:
                page.close()
            chars += len(parts[-1]) + 1
            if chars > max_chars:
                break
    finally:
        document.close()
    text, cut = _capped(parts, max_chars)
    return Extracted(
        text=text.replace("\x00", "\ufffd"),
        page_count=page_count,
        truncated=cut or page_count > max_pages,
    )


def zip_bomb_check(path: str, *, max_uncompressed: int, max_ratio: int) -> None:
    """Refuse an archive by its central directory, before any member is inflated."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractionRefused("docx_unreadable", f"The DOCX cannot be read: {exc}") from None
    if len(members) > 10_000:
        raise ExtractionRefused("zip_bomb", "The archive has too many members.")
    total = sum(member.file_size for member in members)
    compressed = sum(member.compress_size for member in members)
    if total > max_uncompressed:
        raise ExtractionRefused(
            "zip_bomb", f"The archive inflates to {total} bytes (limit {max_uncompressed})."
        )
    if total > 1024 * 1024 and total > max_ratio * max(compressed, 1):
        raise ExtractionRefused(
            "zip_bomb", f"The archive inflates {total // max(compressed, 1)}x (limit {max_ratio}x)."
        )


def extract_docx(path: str, *, max_chars: int, max_uncompressed: int, max_ratio: int) -> Extracted:
    zip_bomb_check(path, max_uncompressed=max_uncompressed, max_ratio=max_ratio)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(path)
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ExtractionRefused(
            "docx_unreadable", f"The DOCX cannot be read: {str(exc)[:120]}"
        ) from None
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.append("\t".join(cell.text for cell in row.cells))
            if sum(len(part) for part in parts) > max_chars:
                break
    text, truncated = _capped(parts, max_chars)
    return Extracted(text=text, truncated=truncated)


def extract_image(path: str, *, max_pixels: int) -> Extracted:
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = max_pixels
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as image:
                width, height = image.size
                image.verify()  # structure and checksums, without decoding every pixel
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ExtractionRefused(
                "image_too_large", f"The image has more than {max_pixels} pixels."
            ) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ExtractionRefused(
                "image_unreadable", f"The image cannot be read: {str(exc)[:120]}"
            ) from None
    return Extracted(width=width, height=height)


def extract(*, path: str, content_type: str, limits: dict[str, int]) -> Extracted:
    """Dispatch by the sniffed content type."""
    if content_type.startswith("text/") or content_type == "application/json":
        return extract_text_file(path, content_type=content_type, max_chars=limits["max_chars"])
    if content_type == "application/pdf":
        return extract_pdf(path, max_pages=limits["max_pages"], max_chars=limits["max_chars"])
    if content_type.endswith("wordprocessingml.document"):
        return extract_docx(
            path,
            max_chars=limits["max_chars"],
            max_uncompressed=limits["docx_max_uncompressed"],
            max_ratio=limits["zip_max_ratio"],
        )
    if content_type.startswith("image/"):
        return extract_image(path, max_pixels=limits["image_max_pixels"])
    raise ExtractionRefused("unsupported_type", f"No extractor for {content_type}.")


def _child_main() -> None:
    request: dict[str, Any] = json.loads(sys.stdin.read())
    limits = request["limits"]
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    try:
        result: dict[str, Any] = asdict(
            extract(path=request["path"], content_type=request["content_type"], limits=limits)
        )
    except ExtractionRefused as exc:
        result = {"error_code": exc.code, "error_message": exc.message}
    except MemoryError:
        result = {
            "error_code": "extraction_out_of_memory",
            "error_message": "The document needs too much memory.",
        }
    except RecursionError:
        result = {
            "error_code": "document_too_deep",
            "error_message": "The document nests too deeply.",
        }
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    _child_main()

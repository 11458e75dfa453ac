"""pypdf vs pypdfium2 on the benchmark PDFs (docs/performance.md): text of a 100-page document,
and opening + counting a 100,000-page one. Run: .venv/bin/python scripts/bench/pdf_libraries.py"""

import io
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.files.documents import pdf_hundred_pages, pdf_many_pages


def _pypdf_text(data: bytes) -> str:
    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def _pdfium_text(data: bytes) -> str:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        return "\n".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    finally:
        document.close()


def _count(library: str) -> None:
    data = pdf_many_pages(100_000)
    started = time.perf_counter()
    if library == "pypdf":
        import pypdf

        pages = len(pypdf.PdfReader(io.BytesIO(data)).pages)
    else:
        import pypdfium2

        pages = len(pypdfium2.PdfDocument(data))
    elapsed = (time.perf_counter() - started) * 1000
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(
        f"{library:10} open+count 100,000 pages: {elapsed:7.0f} ms, peak RSS {peak} MiB ({pages})"
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--count":
        _count(sys.argv[2])
        return
    data = pdf_hundred_pages()
    print(f"100-page PDF: {len(data)} bytes")
    for name, extract in (("pypdf", _pypdf_text), ("pypdfium2", _pdfium_text)):
        extract(data)
        runs = []
        for _ in range(5):
            started = time.perf_counter()
            chars = len(extract(data))
            runs.append(time.perf_counter() - started)
        print(
            f"{name:10} text of 100 pages: median {statistics.median(runs) * 1000:6.0f} ms, min {min(runs) * 1000:6.0f} ms ({chars} chars)"
        )
    for name in ("pypdf", "pypdfium2"):  # each in its own process, for a clean peak RSS
        subprocess.run([sys.executable, __file__, "--count", name], check=True)  # noqa: S603


if __name__ == "__main__":
    main()

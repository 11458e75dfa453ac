"""The upload handler of ``POST /files``: streams each file part to a temporary file on disk,
hashing (SHA-256) and counting as it goes, and stops the upload as soon as the limit is passed.

At most one chunk is in memory. Stopping uses ``StopUpload(connection_reset=True)``: Django
stops reading the body at once (no ``exhaust``), the view answers 413, and the server discards
or closes the rest of the connection (gunicorn drains it in 8 KiB reads before a keep-alive
reuse; put a proxy's body limit in front for hostile multi-GB bodies).
"""

import hashlib

from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import QueryDict
from django.utils.datastructures import MultiValueDict

# Boundaries, part headers and the small ``purpose`` field: a body longer than the file limit
# plus this cannot hold an acceptable file, so it is refused before reading a byte.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


class HashedTemporaryUploadedFile(TemporaryUploadedFile):
    """A spooled upload that knows its SHA-256 (hex) once complete."""

    sha256: str = ""


class StreamingHashUploadHandler(FileUploadHandler):
    chunk_size = 64 * 1024

    def __init__(self, request=None, *, max_bytes: int) -> None:
        super().__init__(request)
        self.max_bytes = max_bytes
        self.received = 0  # across every file part: two 20 MiB parts pass a 25 MiB limit
        self.too_large = False
        self.body_bytes = 0
        self._hash = hashlib.sha256()

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.body_bytes = content_length
        if content_length > self.max_bytes + MULTIPART_OVERHEAD_BYTES:
            self.too_large = True
            return QueryDict(encoding=encoding), MultiValueDict()  # parsed: nothing
        return None

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._hash = hashlib.sha256()
        self.file = HashedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.received += len(raw_data)
        if self.received > self.max_bytes:
            self.too_large = True
            self.file.close()  # a NamedTemporaryFile: closing deletes it
            raise StopUpload(connection_reset=True)
        self._hash.update(raw_data)
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> HashedTemporaryUploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        self.file.sha256 = self._hash.hexdigest()
        return self.file

    def upload_interrupted(self) -> None:
        if hasattr(self, "file"):
            self.file.close()

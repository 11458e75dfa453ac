"""Files tests run on local disk, or on S3 (``FILES_STORAGE=s3``) through django-storages against
a moto server on 127.0.0.1 started here (one per test process, on a free port)."""

import os
import socket
import uuid

import pytest

S3_MODE = os.environ.get("FILES_STORAGE", "").lower() == "s3"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """A moto S3 server on 127.0.0.1 for the whole session (``FILES_STORAGE=s3`` only)."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access line per S3 call

    port = int(os.environ.get("FILES_S3_PORT") or _free_port())
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(autouse=True)
def file_storage(settings, tmp_path, request):
    """Each test gets an empty storage: a fresh media directory, or a fresh S3 bucket."""
    if not S3_MODE:
        settings.MEDIA_ROOT = tmp_path / "media"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        }
        yield "local"
        return
    import boto3

    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"parecer-test-{uuid.uuid4().hex[:12]}"
    credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **credentials).create_bucket(
        Bucket=bucket
    )
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint,
                "region_name": "us-east-1",
                "access_key": "testing",
                "secret_key": "testing",
                "location": "media",
                "file_overwrite": True,
                "default_acl": None,
                "max_memory_size": 1024 * 1024,
            },
        },
    }
    yield "s3"

"""A task the worker tests can observe from outside the worker process."""

import time

from django.tasks import task


@task()
def marker_append(*, path: str, marker: str) -> str:
    time.sleep(0.05)
    with open(path, "a") as handle:  # O_APPEND: concurrent writers never interleave a line
        handle.write(marker + "\n")
    return marker

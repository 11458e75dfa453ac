"""The LLM for the fault suite: tests/fakes/openai_server.py as its own process on a free port of
127.0.0.1, scripted over HTTP (``POST /_fake/default``) into an outage and back, or stopped."""

import json
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from services import REPO, wait_for


def free_port() -> int:
    with socket.socket() as probe:  # SO_REUSEADDR as the server sets it: TIME_WAIT is no conflict
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LLMStandIn:
    def __init__(self, log: Path) -> None:
        self.log, self.port, self.process = log, free_port(), None
        self.latency = 0.0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> None:
        """Start (or restart, on the same port) with the current default ``latency``."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.fakes.openai_server",
                "--port",
                str(self.port),
                "--latency",
                str(self.latency),
                "--quiet",
            ],
            cwd=REPO,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_for(
            lambda: urllib.request.urlopen(f"{self.base_url}/models", timeout=1).status == 200,
            what="the LLM stand-in",
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def behave(self, **behaviour) -> None:
        """Every unscripted request from now on (``/v1/models`` included, for ``status`` and
        ``drop``): the start-up default with these changes; no argument restores it."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/_fake/default",
            data=json.dumps(behaviour).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert urllib.request.urlopen(request, timeout=5).status == 200

"""Probes in their own process (the load generator's 30 threads would otherwise add their GIL
waits to the figures): each round probes every ``label:port`` given, one line per probe,
``label started seconds status``. ``control`` is a bare static-file server in its own process:
what any process on this machine answers in, right now."""

import http.client
import sys
import time

targets = [arg.split(":") for arg in sys.argv[2:]]
pause = float(sys.argv[1])
while True:
    for label, port in targets:
        started = time.monotonic()
        status = 0
        try:
            # A new connection per probe, as an orchestrator's prober does.
            connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=5)
            connection.request("GET", "/health/live")
            response = connection.getresponse()
            response.read()
            status = response.status
            connection.close()
        except (OSError, http.client.HTTPException):
            pass
        print(f"{label} {started} {time.monotonic() - started} {status}", flush=True)
    time.sleep(pause)

"""A liveness prober in its own process (the load generator's 30 threads would otherwise
add their GIL waits to its figures): one line per probe, ``started seconds status``."""

import http.client
import sys
import time

port, path, pause = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
while True:
    started = time.monotonic()
    status = 0
    try:
        # A new connection per probe, as an orchestrator's prober does.
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        status = response.status
        connection.close()
    except (OSError, http.client.HTTPException):
        pass
    print(f"{started} {time.monotonic() - started} {status}", flush=True)
    time.sleep(pause)

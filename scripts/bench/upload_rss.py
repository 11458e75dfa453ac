"""RSS of each gunicorn worker while N clients upload M MiB files at once (make bench).

Samples /proc/<pid>/status VmRSS of every worker every 20 ms from before the first byte until
the last response, and prints one line per worker: baseline, peak, growth. Each client streams
its body from a generator (unique bytes per client, so nothing is deduplicated), so the client
side holds one chunk at a time too.

  python scripts/bench/upload_rss.py --base http://127.0.0.1:8100 --token JWT --server-pid PID
"""

import argparse
import http.client
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

CHUNK = 64 * 1024


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def workers_of(server_pid: int) -> list[int]:
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def upload(base: str, token: str, client: int, size: int, results: list) -> None:
    boundary = f"RssBoundary{client}"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big{client}.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    line = f"client {client} uploads a large text file at {time.time()}\n".encode()
    block = (line * (CHUNK // len(line) + 1))[:CHUNK]

    def body():
        yield head
        remaining = size
        while remaining:
            part = block[: min(CHUNK, remaining)]
            remaining -= len(part)
            yield part
        yield tail

    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    conn.putrequest("POST", "/api/v1/files")
    conn.putheader("Authorization", f"Bearer {token}")
    conn.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    conn.putheader("Content-Length", str(len(head) + size + len(tail)))
    conn.endheaders()
    for piece in body():
        conn.send(piece)
    response = conn.getresponse()
    payload = json.loads(response.read() or b"{}")
    results.append((response.status, payload.get("id") or payload.get("error", {}).get("code")))
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--server-pid", type=int, required=True)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--megabytes", type=int, default=25)
    args = parser.parse_args()

    workers = workers_of(args.server_pid)
    baseline = {pid: rss_kib(pid) for pid in workers}
    peak = dict(baseline)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            for pid in workers:
                peak[pid] = max(peak[pid], rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    results: list = []
    started = time.perf_counter()
    clients = [
        threading.Thread(
            target=upload, args=(args.base, args.token, n, args.megabytes * 1024 * 1024, results)
        )
        for n in range(args.clients)
    ]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.perf_counter() - started
    time.sleep(0.2)
    done.set()
    sampler.join()

    statuses = sorted({status for status, _ in results})
    print(
        f"upload_rss: {args.clients} clients x {args.megabytes} MiB at once in {elapsed:.1f} s, "
        f"statuses {statuses} ({sum(1 for s, _ in results if s == 201)} created)"
    )
    for pid in workers:
        growth = (peak[pid] - baseline[pid]) / 1024
        print(
            f"  worker {pid}: RSS {baseline[pid] / 1024:.0f} MiB -> peak {peak[pid] / 1024:.0f} MiB "
            f"(+{growth:.1f} MiB)"
        )


if __name__ == "__main__":
    main()

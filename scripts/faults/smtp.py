"""A tiny SMTP server that records each delivered message and can be told to be slow: the
suite kills a task worker (or restarts the database) while a task is in the middle of sending."""

import socketserver
import threading
import time


class SmtpSink:
    def __init__(self, port: int) -> None:
        self.messages: list[str] = []
        self.banner_delay = 0.0
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                time.sleep(sink.banner_delay)
                self.wfile.write(b"220 faults ESMTP\r\n")
                data, in_data = [], False
                for raw in self.rfile:
                    line = raw.decode("utf-8", "replace")
                    if in_data:
                        if line.rstrip("\r\n") == ".":
                            sink.messages.append("".join(data))
                            data, in_data = [], False
                            self.wfile.write(b"250 queued\r\n")
                        else:
                            data.append(line)
                        continue
                    verb = line[:4].upper()
                    if verb == "DATA":
                        in_data = True
                        self.wfile.write(b"354 go ahead\r\n")
                    elif verb == "QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    elif verb == "EHLO":
                        self.wfile.write(b"250-faults\r\n250 8BITMIME\r\n")
                    else:
                        self.wfile.write(b"250 ok\r\n")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

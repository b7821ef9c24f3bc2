"""A loopback HTTP server for the importer tests: serves tests/data/pages and tests/data/feeds (with
`{{BASE}}` replaced by its own address), answers what a test sets in `routes`, and records every request."""
from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

DATA = Path(__file__).parent / "data"
TYPES = {".html": "text/html", ".xml": "application/rss+xml", ".txt": "text/plain; charset=utf-8"}


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):  # a client that gave up (a timeout test) is expected
        pass


class FixtureServer:
    def __init__(self):
        self.routes: dict[str, tuple[int, dict, bytes]] = {}
        self.requests: list[tuple[str, str]] = []  # (path, User-Agent)
        self.delays: dict[str, float] = {}  # path -> seconds to wait before answering
        self.custom: dict[str, object] = {}  # path -> function(handler) that writes the whole answer itself
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                server.requests.append((self.path, self.headers.get("User-Agent", "")))
                time.sleep(server.delays.get(self.path, 0))
                if self.path in server.custom:  # a misbehaving server: a body cut short, bytes dripped…
                    server.custom[self.path](self)
                    return
                status, headers, body = server.answer(self.path)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def answer(self, path: str) -> tuple[int, dict, bytes]:
        if path in self.routes:
            return self.routes[path]
        if path.split("?")[0] in self.routes:  # as a real site, a query it does not use changes nothing
            return self.routes[path.split("?")[0]]
        file = DATA / path.lstrip("/")
        if ".." in path or not file.is_file():
            return 404, {"Content-Type": "text/html"}, b"<html><body><h1>Not Found</h1></body></html>"
        body = file.read_bytes().replace(b"{{BASE}}", self.base.encode())
        ctype = TYPES.get(file.suffix, "application/octet-stream")
        if file.suffix == ".xml" and b"<feed" in body[:300]:
            ctype = "application/atom+xml"
        return 200, {"Content-Type": ctype}, body

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

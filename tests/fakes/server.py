"""A small HTTP server on loopback: the base of the fakes that speak a provider's REST protocol.

The real SDKs talk to it over real HTTP, so their request building, response parsing, error
mapping and timeouts all run for real. Every request is recorded for the tests to inspect, and
every request that did paid work (what the provider would bill) is counted.

A fake lies as providers do with an `Accept` in its script: it does the work (and bills it), then
answers late, never, or with a server error instead of the answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


@dataclass
class Response:
    status: int = 200
    body: bytes | dict | list = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (a slow or hanging provider)
    drop: bool = False  # close the connection without answering, after the request was read

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Accept:
    """A script step for a request that starts paid work: the fake does the work (the provider bills
    it), then answers late (`delay` seconds), never (`drop`: the connection closes), with `fail`
    instead of the answer (a 5xx after the work was done), or only once `release` is set."""

    delay: float = 0.0
    drop: bool = False
    fail: Response | None = None
    release: threading.Event | None = None
    received: threading.Event = field(default_factory=threading.Event)
    text: str = ""  # what a text request made, when the script says (else the fake's own words)

    def answer(self, response: Response) -> Response:
        """What is sent for `response`, the answer to the work just done."""
        self.received.set()
        if self.release is not None:
            self.release.wait(120)
        return replace(self.fail or response, delay=self.delay, drop=self.drop)


@dataclass
class Work:
    """Paid work a fake did: its kind ("video", "text") and what it made (an operation's name, a text)."""

    kind: str
    made: str


class FakeServer:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.work: list[Work] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parsed = urlparse(self.path)
                request = Request(
                    self.command,
                    parsed.path,
                    parse_qs(parsed.query),
                    {key.lower(): value for key, value in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                fake.requests.append(request)
                response = fake.handle(request)
                if response.delay:
                    time.sleep(response.delay)
                if response.drop:
                    self.close_connection = True
                    return
                body, content_type = response.encoded()
                try:
                    self.send_response(response.status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address
        return f"http://{host}:{port}"

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self, method: str, path_part: str) -> list[Request]:
        return [r for r in self.requests if r.method == method and path_part in r.path]

    def bill(self, kind: str, made: str) -> None:
        self.work.append(Work(kind, made))

    def step_for(self, script: deque, prompt: str, by_words: dict[str, deque], default="ok"):
        """The next step of a script for a request about `prompt`: first one scripted in `by_words` for
        words the prompt contains (a test picks one request among several in flight at once, whatever
        order they arrive in), else the next of `script`, else `default`."""
        for words, steps in by_words.items():
            if words in prompt and steps:
                return steps.popleft()
        return script.popleft() if script else default

    def billed(self, kind: str) -> list[str]:
        """What the provider would bill, in order: everything of `kind` it made, delivered or not."""
        return [work.made for work in self.work if work.kind == kind]

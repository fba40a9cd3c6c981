"""A TCP proxy a test can cut and restore: a server (PostgreSQL, Redis) that goes away and comes back,
as a network partition or a restart does, while the processes using it keep running."""

from __future__ import annotations

import contextlib
import socket
import threading

import django_rq


class Proxy:
    def __init__(self, target: tuple[str, int] | str) -> None:
        """`target`: (host, port), or the path of a Unix socket."""
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> Proxy:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Refuse new connections and cut every open one, as a dead server would."""
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        if listener is not None:
            listener.close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
            connection.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                if isinstance(self.target, str):
                    upstream = socket.socket(socket.AF_UNIX)
                    upstream.connect(self.target)
                else:
                    upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._listener is not listener:
                    client.close()
                    upstream.close()
                    return
                self._connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


def queues_unreachable(monkeypatch, *names: str) -> None:
    """This process's RQ queues (all, or those named) point at a port nothing listens on, until the
    test's `monkeypatch.undo()`: Redis away for the code that queues, not for the test's own checks."""
    nowhere = Proxy(("127.0.0.1", 1))  # never started: only its free port is used
    for name in names or django_rq.settings.QUEUES:
        monkeypatch.setitem(django_rq.settings.QUEUES[name], "URL", f"redis://127.0.0.1:{nowhere.port}/0")

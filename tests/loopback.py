"""The lifecycle the test servers share: a real ``ThreadingHTTPServer`` on 127.0.0.1, in a daemon thread.

`tests.fakearxiv.FakeArxiv` and `tests.fakes2.FakeS2` are such servers; each names its request handler
class (`LoopbackServer.handler`), which finds the server it answers for as ``self.fake``.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TypeVar

Server = TypeVar("Server", bound="LoopbackServer")


class LoopbackServer:
    """Serves `handler` on a free port of 127.0.0.1 from `start` (or ``with``) to `stop`."""

    thread_name = "fake-server"
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler class; a subclass of it with ``fake`` set to this server answers."""
        raise NotImplementedError

    def start(self: Server) -> Server:
        handler = type("Handler", (self.handler(),), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self: Server) -> Server:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

"""A real terminal for tests and benchmarks: a program on a pseudo-terminal of a given size, its output read
until some text appears, keys typed into it.

Textual draws through the terminal it finds on stdin/stdout/stderr, exactly as in a person's terminal, so
this measures and tests what Pilot's headless driver cannot: the real start-up and the real first paint.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence


class Terminal:
    """``argv`` started on a fresh pseudo-terminal of ``columns`` x ``lines``, in its own session."""

    def __init__(
        self, argv: Sequence[str], env: dict[str, str] | None = None, columns: int = 100, lines: int = 30
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(argv),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**(env if env is not None else os.environ), "TERM": "xterm-256color"},
            start_new_session=True,
        )
        os.close(slave)
        self.output = b""

    def wait_for(self, text: str, timeout: float = 30.0) -> float:
        """Read until ``text`` has been written; the seconds since the start. TimeoutError if it never is."""
        wanted = text.encode()
        deadline = time.monotonic() + timeout
        while wanted not in self.output:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(left, 0))
            if not ready:
                raise TimeoutError(f"{text!r} never appeared; the last bytes: {self.output[-400:]!r}")
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # the program ended and closed the terminal
                chunk = b""
            if not chunk:
                raise TimeoutError(f"the program ended before {text!r} appeared: {self.output[-400:]!r}")
            self.output += chunk
        return time.perf_counter() - self.started

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def close(self, timeout: float = 10.0) -> int | None:
        """Wait up to ``timeout`` for the program to end by itself (draining its output), else kill it;
        its exit code, None when it had to be killed."""
        deadline = time.monotonic() + timeout
        code = None
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                break
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                with contextlib.suppress(OSError):
                    self.output += os.read(self.master, 65536)
        if code is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)
        return code

"""A tiny SMTP server on 127.0.0.1 that keeps what it receives (and can refuse)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest


class _Handler(socketserver.StreamRequestHandler):
    def _reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        server: Any = self.server
        self._reply("220 test ESMTP")
        rcpts: list[str] = []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self._reply("250-test\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            elif verb == "AUTH":
                server.logins.append(line)
                self._reply("235 ok")
            elif verb == "MAIL":
                rcpts = []
                self._reply("250 ok")
            elif verb == "RCPT":
                address = line.split(":", 1)[1].strip().strip("<>")
                if server.refuse_code and address in server.refuse:
                    self._reply(f"{server.refuse_code} no")
                else:
                    rcpts.append(address)
                    self._reply("250 ok")
            elif verb == "DATA":
                self._reply("354 go")
                data = b""
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                server.received.append((rcpts, message_from_bytes(data, policy=policy.default)))
                self._reply("250 queued")
            elif verb == "RSET":
                self._reply("250 ok")
            elif verb == "QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 ok")


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: list[tuple[list[str], Any]] = []
        self.logins: list[str] = []
        self.refuse: set[str] = set()
        self.refuse_code = 0

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])

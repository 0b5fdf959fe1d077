"""Shared fixtures for the Python interop tests.

`server` starts the real `stream-chat-server` binary (path from STREAM_CHAT_SERVER_BIN) on a free
loopback port with a fresh state for every test, reads the base URL from its first stdout line,
and stops it after the test. A missing binary is a failure, never a skip.
"""

import os
import re
import subprocess
import threading
from dataclasses import dataclass, field
from typing import List

import pytest
from stream_chat import StreamChat

API_KEY = "interop-key"
API_SECRET = "interop-secret-0123456789-abcdefghijkl"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0


@dataclass
class Server:
    base_url: str
    api_key: str
    api_secret: str
    process: subprocess.Popen
    log: List[str] = field(default_factory=list)

    def client(self, secret: str = None, api_key: str = None) -> StreamChat:
        """The official server-side client pointed at this server."""
        return StreamChat(
            api_key or self.api_key,
            secret or self.api_secret,
            base_url=self.base_url,
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def server_binary() -> str:
    binary = os.environ.get("STREAM_CHAT_SERVER_BIN")
    if not binary:
        raise RuntimeError(
            "STREAM_CHAT_SERVER_BIN is not set: point it at the stream-chat-server binary "
            "(cargo build -p stream-chat-server; STREAM_CHAT_SERVER_BIN=target/debug/stream-chat-server), "
            "or run the suite through `cargo test -p stream-chat-server --test server interop::`"
        )
    if not os.path.exists(binary):
        raise RuntimeError(f"STREAM_CHAT_SERVER_BIN={binary} does not exist")
    return binary


def start_server(
    multi_tenant: bool = False, health_check_interval=None, defaults: bool = False, extra_args=None
) -> Server:
    """A fresh server; `defaults=True` passes no key or secret (the binary's development
    defaults, as `cargo run -p stream-chat-server`), and the returned key is read from the
    first line (the secret is then None)."""
    args = [
        server_binary(),
        "--addr", "127.0.0.1:0",
        # the server ends with this process even if pytest is killed
        "--exit-on-stdin-close",
    ]
    if not defaults:
        args += ["--api-key", API_KEY, "--api-secret", API_SECRET]
    if multi_tenant:
        args.append("--multi-tenant")
    if health_check_interval is not None:
        args += ["--health-check-interval", str(health_check_interval)]
    if extra_args:
        args += list(extra_args)

    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
    )
    log: List[str] = []

    def drain(stream):
        for line in stream:
            log.append(line)

    threading.Thread(target=drain, args=(proc.stderr,), daemon=True).start()

    first = {}
    got_line = threading.Event()

    def read_first():
        first["line"] = proc.stdout.readline()
        got_line.set()
        drain(proc.stdout)

    threading.Thread(target=read_first, daemon=True).start()
    if not got_line.wait(START_TIMEOUT_S):
        proc.kill()
        raise RuntimeError(
            f"server did not print its URL within {START_TIMEOUT_S}s\n  command: {' '.join(args)}\n"
            f"  stderr:\n{''.join(log)}"
        )
    line = first["line"]
    m = re.search(r"https?://[^\s\"']+", line or "")
    if not m:
        proc.kill()
        proc.wait()
        raise RuntimeError(
            f"first stdout line has no http://HOST:PORT: {line!r} (exit code {proc.poll()})\n"
            f"  command: {' '.join(args)}\n  stderr:\n{''.join(log)}"
        )
    if defaults:
        key = re.search(r"\(api_key ([^)\s]+)\)", line)
        if not key:
            proc.kill()
            proc.wait()
            raise RuntimeError(f"first stdout line has no (api_key KEY): {line!r}")
        return Server(m.group(0).rstrip("/"), key.group(1), None, proc, log)
    return Server(m.group(0).rstrip("/"), API_KEY, API_SECRET, proc, log)


@pytest.fixture
def server():
    s = start_server()
    yield s
    s.stop()


@pytest.fixture
def default_server():
    """The binary with its built-in development key and secret."""
    s = start_server(defaults=True)
    yield s
    s.stop()


@pytest.fixture
def multi_tenant_server():
    s = start_server(multi_tenant=True)
    yield s
    s.stop()


@pytest.fixture
def client(server) -> StreamChat:
    return server.client()

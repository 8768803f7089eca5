"""Fixtures for the API integration suite: real `hamburger serve` processes on loopback ports.

Every server runs the real binary (``.build/debug/hamburger`` or ``$HAMBURGER_BIN``) on the real model
(``models/SmolLM2-135M-Instruct.Q4_1.gguf`` or ``$HAMBURGER_MODEL``), bound to 127.0.0.1 on a port the
kernel picks (``--port 0``; the port is read from the "listening on" log line). Each is stopped at the
end of its fixture's scope, killed if it does not exit in time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from pathlib import Path

import httpx
import openai
import pytest

REPO = Path(__file__).resolve().parents[1]
BINARY = Path(os.environ.get("HAMBURGER_BIN", REPO / ".build" / "debug" / "hamburger"))
MODEL = Path(os.environ.get("HAMBURGER_MODEL", REPO / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf"))
MODEL_NAME = "SmolLM2-135M-Instruct"

#: Longest wait for a server to listen and load the model (a debug build loads slowly on 2 cores).
START_TIMEOUT_S = 120.0
#: Longest wait for a server to exit after SIGTERM before it is killed.
STOP_TIMEOUT_S = 30.0

LISTENING = re.compile(r"listening on (https?)://(\S+):(\d+)")


class Server:
    """One `hamburger serve` process and what a test needs to talk to it."""

    def __init__(self, name: str, args: list[str], log_dir: Path, port: int = 0):
        self.name = name
        self.requested_port = port
        self.args = args
        self.log_path = log_dir / f"{name}.log"
        self.lines: list[str] = []
        self.scheme = "http"
        self.port = 0
        self.ready = threading.Event()
        self.listening = threading.Event()
        self.process: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> "Server":
        if not BINARY.exists():
            pytest.exit(f"{BINARY} does not exist: run `swift build` first (or set HAMBURGER_BIN)", returncode=2)
        if not MODEL.exists():
            pytest.exit(f"{MODEL} does not exist: run `make setup` first (or set HAMBURGER_MODEL)", returncode=2)
        command = [
            str(BINARY), "serve", "--config", str(REPO / "config" / "hamburger.yaml"),
            "--host", "127.0.0.1", "--port", str(self.requested_port), "--model", str(MODEL), "--served-model-name", MODEL_NAME,
            "--log-level", "info", *self.args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HAMBURGER_")}
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_log, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self.ready.is_set():
            if self.process.poll() is not None:
                raise RuntimeError(f"server {self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"server {self.name} not ready after {START_TIMEOUT_S}s:\n{self.log_tail()}")
            self.ready.wait(0.1)
        return self

    def _read_log(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with open(self.log_path, "w") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                self.lines.append(line.rstrip("\n"))
                if not self.listening.is_set() and (m := LISTENING.search(line)):
                    self.scheme, self.port = m.group(1), int(m.group(3))
                    self.listening.set()
                if " ready in " in line and "model " in line:
                    self.ready.set()

    def terminate(self) -> None:
        """Sends SIGTERM (the drain signal)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not exited within STOP_TIMEOUT_S."""
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, count: int = 40) -> str:
        return "\n".join(self.lines[-count:])

    # -- clients ---------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def openai(self, api_key: str = "unused", **kwargs) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url + "/v1", api_key=api_key, max_retries=0, timeout=60.0, **kwargs)

    def http(self, **kwargs) -> httpx.Client:
        kwargs.setdefault("timeout", 60.0)
        return httpx.Client(base_url=self.base_url, **kwargs)

    def metrics(self) -> dict[str, float]:
        """The Prometheus samples, by full sample name (labels included)."""
        with self.http() as client:
            text = client.get("/metrics").text
        samples: dict[str, float] = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, _, value = line.rpartition(" ")
                try:
                    samples[name] = float(value)
                except ValueError:
                    pass
        return samples


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-logs")


@pytest.fixture(scope="session")
def start_server(log_dir: Path):
    """A factory: ``start_server(name, *flags)`` starts a server that is stopped at the end of the session
    (or earlier, by the test)."""
    started: list[Server] = []

    def start(name: str, *args: str) -> Server:
        server = Server(name, list(args), log_dir)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server) -> Server:
    """The default server, shared by every test that needs no special flags."""
    return start_server("default")


@pytest.fixture(scope="session")
def client(server: Server) -> openai.OpenAI:
    return server.openai()

"""Server processes under test: how to start each one, wait until it answers, read its peak resident
memory, and stop it (always, even on errors)."""
from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A TCP port on the loopback interface that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def read_status_kib(pid: int, key: str) -> Optional[int]:
    """A `kB` field (VmHWM = peak resident set, VmRSS = current) from /proc/PID/status, in KiB."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass
class ServerSpec:
    """What to run for one server. `name` is `ours` or `peer`; `ready_path` answers 200 once the model
    is loaded."""

    name: str
    label: str
    argv: list[str]
    ready_path: str
    model_name: Optional[str]
    env: dict[str, str] = field(default_factory=dict)

    def command_line(self, port: int) -> str:
        """The command as one shell-quoted line for RESULTS.md, with the picked port shown as PORT."""
        argv = ["PORT" if a == str(port) and i > 0 and self.argv[i - 1] == "--port" else shlex.quote(a)
                for i, a in enumerate(self.argv)]
        prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        return (prefix + " " if prefix else "") + " ".join(argv)


def ours_spec(binary: Path, model: Path, port: int, threads: int, max_num_seqs: int,
              extra: list[str]) -> ServerSpec:
    """`hamburger serve` on loopback with the given thread count and sequence limit."""
    argv = [str(binary), "serve", "--host", LOOPBACK, "--port", str(port), "--model", str(model),
            "--threads", str(threads), "--max-num-seqs", str(max_num_seqs), "--log-level", "warning",
            *extra]
    return ServerSpec("ours", "hamburger", argv, "/health", None)


def peer_env(wait_policy: str) -> dict[str, str]:
    """The environment llama.cpp's processes get: OMP_WAIT_POLICY when one is chosen (see options.py)."""
    return {"OMP_WAIT_POLICY": wait_policy} if wait_policy else {}


def peer_spec(bin_dir: Path, model: Path, port: int, threads: int, parallel: int, slot_ctx: int,
              extra: list[str], wait_policy: str = "") -> ServerSpec:
    """llama.cpp's own `llama-server` with `parallel` slots (continuous batching is its default), the
    same GGUF and threads as ours (for generation and for prompt batches), and a context of
    `parallel x slot_ctx` tokens: it reserves float16 KV for all of it at start-up and gives each slot
    an equal share (`--no-kv-unified`; this version otherwise lets all slots share one pool).
    `--no-webui` keeps its page out of the way; its log goes to the work directory like ours."""
    argv = [str(bin_dir / "llama-server"), "-m", str(model), "--host", LOOPBACK, "--port", str(port),
            "-t", str(threads), "-tb", str(threads), "--parallel", str(parallel),
            "-c", str(parallel * slot_ctx), "--no-kv-unified", "--cont-batching", "--no-webui",
            *extra]
    return ServerSpec("peer", "llama.cpp (llama-server)", argv, "/health", None, peer_env(wait_policy))


class ServerProcess:
    """One running server. Use as a context manager: the process group is terminated on exit."""

    def __init__(self, spec: ServerSpec, port: int, log_dir: Path, start_timeout_s: float, cwd: Path):
        self.spec = spec
        self.cwd = cwd
        self.port = port
        self.base_url = f"http://{LOOPBACK}:{port}"
        self.log_path = log_dir / f"{spec.name}-{port}.log"
        self.start_timeout_s = start_timeout_s
        self.proc: Optional[subprocess.Popen] = None
        self.idle_rss_kib: Optional[int] = None
        self.peak_rss_kib: Optional[int] = None
        self.load_seconds: Optional[float] = None

    def __enter__(self) -> "ServerProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.update(self.spec.env)
        started = time.monotonic()
        self.proc = subprocess.Popen(self.spec.argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                     cwd=self.cwd, start_new_session=True, preexec_fn=_die_with_parent)
        log.close()
        try:
            self._wait_ready(started)
        except BaseException:
            self.stop()
            raise
        self.load_seconds = time.monotonic() - started
        self.idle_rss_kib = read_status_kib(self.proc.pid, "VmRSS")
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _wait_ready(self, started: float) -> None:
        deadline = started + self.start_timeout_s
        url = self.base_url + self.spec.ready_path
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.spec.name} server exited with status {self.proc.returncode} "
                                   f"before it was ready; see {self.log_path}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.spec.name} server not ready after {self.start_timeout_s:.0f} s; "
                           f"see {self.log_path}")

    def sample_peak(self) -> None:
        """Read the kernel's high-water mark of resident memory (VmHWM) while the process lives."""
        if self.proc is not None and self.proc.poll() is None:
            hwm = read_status_kib(self.proc.pid, "VmHWM")
            if hwm is not None:
                self.peak_rss_kib = max(self.peak_rss_kib or 0, hwm)

    def stop(self) -> None:
        """SIGTERM to the process group, SIGKILL after 15 s; idempotent."""
        if self.proc is None:
            return
        self.sample_peak()
        if self.proc.poll() is None:
            _signal_group(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                _signal_group(self.proc.pid, signal.SIGKILL)
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    print(f"warning: {self.spec.name} (pid {self.proc.pid}) did not exit", file=sys.stderr)
        self.proc = None


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to send SIGTERM when the harness dies, even by SIGKILL
    (prctl PR_SET_PDEATHSIG), so no server outlives a killed harness."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)  # the server leads its own session (start_new_session=True)
    except ProcessLookupError:
        pass

"""Facts about the machine and software for RESULTS.md: CPU model and flags, memory, kernel, load,
repository commit, and the peer's llama.cpp version."""
from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Optional

INTERESTING_FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                     "avx512_bf16", "avx_vnni", "amx_tile")


def cpu_description() -> dict:
    """CPU model name, logical CPU count, and the SIMD flags that matter for these kernels."""
    model, flags, logical = None, set(), 0
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "processor":
                    logical += 1
                elif key == "model name" and model is None:
                    model = value.strip()
                elif key == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    mem_kib = None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_kib = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return {
        "model": model or platform.processor() or "unknown",
        "logical_cpus": logical or os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "flags": [f for f in INTERESTING_FLAGS if f in flags],
        "mem_total_gib": round(mem_kib / 1048576, 1) if mem_kib else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def load_average() -> Optional[tuple[float, float, float]]:
    try:
        return os.getloadavg()
    except OSError:
        return None


def git_commit(repo: Path) -> Optional[str]:
    """HEAD's short hash, with `-dirty` when tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def peer_facts(bin_dir: Path) -> dict:
    """`llama-server --version` (llama.cpp's build number and commit, compiler, target), and the build
    stamp of scripts/build-llama-peer.sh (the CPU flags and compiler the cache key was taken from)."""
    out = subprocess.run([str(bin_dir / "llama-server"), "--version"], capture_output=True, text=True, timeout=60)
    text = (out.stdout + out.stderr).strip()
    version = next((line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("version:")), text[:200])
    stamp = bin_dir.parent / ".hamburger-peer-built"
    return {"version": version, "version_output": text,
            "build_stamp": stamp.read_text().strip() if stamp.exists() else None,
            "bin_dir": str(bin_dir)}

"""Detached processes with a pid file and a log file each, so `./dev down` and `./dev status`
work from another shell, and a crashed session leaves nothing it cannot find again."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from devstack.config import StackConfig


class StackError(RuntimeError):
    """A problem a person can fix; the message says how."""


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def require_free_port(port: int, what: str, variable: str) -> None:
    if not port_is_free(port):
        raise StackError(
            f"Port {port} ({what}) is taken by another process. Stop that process "
            f"(`ss -ltnp 'sport = :{port}'` shows which), or choose another port: {variable}=<port> ./dev ..."
        )


def pid_file(config: StackConfig, name: str) -> Path:
    return config.pids_dir / f"{name}.pid"


def log_file(config: StackConfig, name: str) -> Path:
    return config.logs_dir / f"{name}.log"


def running_pid(config: StackConfig, name: str) -> int | None:
    path = pid_file(config, name)
    try:
        pid = int(path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(config: StackConfig, name: str, command: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None) -> int:
    config.pids_dir.mkdir(parents=True, exist_ok=True)
    config.logs_dir.mkdir(parents=True, exist_ok=True)
    with open(log_file(config, name), "ab") as log:
        process = subprocess.Popen(
            list(command),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,  # its own process group: Ctrl-C in ./dev's terminal is ours to forward
        )
    pid_file(config, name).write_text(str(process.pid))
    return process.pid


def stop(config: StackConfig, name: str, *, timeout: float = 20.0, sig: int = signal.SIGTERM) -> bool:
    """SIGTERM (graceful: services finish their work in flight), SIGKILL after `timeout`."""
    pid = running_pid(config, name)
    if pid is None:
        pid_file(config, name).unlink(missing_ok=True)
        return False
    try:
        os.killpg(pid, sig)
    except OSError:
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        while _alive(pid):
            time.sleep(0.05)
    pid_file(config, name).unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split()[2] != "Z"
    except OSError:
        return False


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log yet)"

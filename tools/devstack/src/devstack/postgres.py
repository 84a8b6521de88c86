"""A project-local PostgreSQL cluster: one role and one database per service.

`initdb` and `postgres` refuse to run as root; when `./dev` runs as root (as CI does) they run as
the unprivileged `postgres` system user, which owns the data directory.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

import asyncpg

from devstack import processes
from devstack.config import StackConfig
from devstack.processes import StackError

NAME = "postgres"
SUPERUSER_PASSWORD = "postgres"  # this local cluster only listens on 127.0.0.1


def _bin_dir() -> Path:
    if explicit := os.environ.get("PG_BIN"):
        if not (Path(explicit) / "initdb").exists():
            raise StackError(f"PG_BIN={explicit} holds no initdb. Point it at PostgreSQL's bin folder, or unset it after: apt-get install -y postgresql")
        return Path(explicit)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    if found := shutil.which("initdb"):
        return Path(found).parent
    raise StackError(
        "PostgreSQL's server binaries (initdb, pg_ctl) were not found. Install them: apt-get install -y postgresql "
        "(or point PG_BIN at the folder that holds initdb)"
    )


def _as_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise StackError(
            "Running as root, PostgreSQL needs the unprivileged 'postgres' user: apt-get install -y postgresql creates it, or: useradd --system postgres"
        ) from None
    return ["runuser", "-u", "postgres", "--", *command]


def _data_dir(config: StackConfig) -> Path:
    return config.state_dir / "postgres" / "data"


def _initialise(config: StackConfig, bin_dir: Path) -> None:
    home = config.state_dir / "postgres"
    data = _data_dir(config)
    home.mkdir(parents=True, exist_ok=True)
    password_file = home / "superuser-password"
    password_file.write_text(SUPERUSER_PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
        shutil.chown(password_file, "postgres", "postgres")
    result = subprocess.run(
        _as_owner(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                f"--pwfile={password_file}",
                "--auth-host=scram-sha-256",
                "--auth-local=peer",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        capture_output=True,
        text=True,
    )
    password_file.unlink(missing_ok=True)
    if result.returncode != 0:
        raise StackError(f"initdb failed:\n{result.stdout}{result.stderr}")
    with open(data / "postgresql.conf", "a") as conf:
        conf.write("\n# ./dev\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 300\nshared_buffers = 256MB\n")


def start(config: StackConfig) -> None:
    if processes.running_pid(config, NAME):
        return
    bin_dir = _bin_dir()
    processes.require_free_port(config.postgres_port, "PostgreSQL", config.port_variable("POSTGRES"))
    if not (_data_dir(config) / "PG_VERSION").exists():
        _initialise(config, bin_dir)
    log = processes.log_file(config, NAME)
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    if os.geteuid() == 0:
        shutil.chown(log, "postgres", "postgres")
    result = subprocess.run(
        _as_owner([str(bin_dir / "pg_ctl"), "-D", str(_data_dir(config)), "-l", str(log), "-w", "-t", "60", "-o", f"-p {config.postgres_port}", "start"]),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise StackError(f"PostgreSQL did not start:\n{result.stdout}{result.stderr}\n{processes.tail(log)}")
    pid = (_data_dir(config) / "postmaster.pid").read_text().splitlines()[0]
    config.pids_dir.mkdir(parents=True, exist_ok=True)
    processes.pid_file(config, NAME).write_text(pid)


def stop(config: StackConfig) -> None:
    if not processes.running_pid(config, NAME):
        return
    subprocess.run(_as_owner([str(_bin_dir() / "pg_ctl"), "-D", str(_data_dir(config)), "-m", "fast", "-w", "stop"]), capture_output=True)
    processes.pid_file(config, NAME).unlink(missing_ok=True)


async def ensure_database(config: StackConfig, name: str) -> str:
    """A role and a database of that name (the role owns it); returns its URL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError(f"not a plain database name: {name!r}")  # it is spliced into SQL below
    connection = await asyncpg.connect(config.admin_database_url())
    try:
        if not await connection.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", name):
            await connection.execute(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{name}'")
        if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await connection.execute(f'CREATE DATABASE "{name}" OWNER "{name}"')
    finally:
        await connection.close()
    return config.database_url(name)


async def recreate_database(config: StackConfig, name: str) -> str:
    """An empty database of that name, for a test."""
    connection = await asyncpg.connect(config.admin_database_url())
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()
    return await ensure_database(config, name)


def ensure_databases(config: StackConfig, names: list[str]) -> None:
    async def create_all() -> None:
        for name in names:
            await ensure_database(config, name)

    asyncio.run(create_all())

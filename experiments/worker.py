"""A local worker that keeps compiled models between commands.

`cargoinfer fit`, `sweep`, `calibrate`, `plan` and `warm` hand their arguments to a worker
process, which runs them exactly as the command would (the client's stdin, stdout and
stderr are passed to it over the socket, with its directory, environment and umask) and
keeps what it compiled for the next command. Like mypy's dmypy or Gradle's daemon:

- started on demand by the first command; one per user and per version of the code: its
  name is a digest of the package's files, the installed distributions, the interpreter
  and the environment variables read at import (PYTENSOR_FLAGS, NUMBA_*, ...), and it
  refuses a request that carries another digest;
- its socket lives in a folder only its user can read (mode 0700; the socket 0600);
- it exits after CARGOINFER_WORKER_IDLE seconds without a request (default 3 hours);
- `CARGOINFER_WORKER=0` or `--no-worker` runs the command in its own process;
- a worker that dies mid-command leaves what a killed command leaves (a run directory
  is staged and renamed complete, so nothing half-written), and the client says so in
  one line and exits 1.

This module's client half imports only the standard library."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from contextlib import contextmanager
from pathlib import Path

SERVED = ("fit", "sweep", "calibrate", "plan", "warm")
IDLE_S = 3 * 3600
ENV_READ_AT_IMPORT = ("PYTENSOR_FLAGS", "PYTENSORRC", "PYTHONPATH", "PYTHONHASHSEED",
                      "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
PACKAGE = Path(__file__).resolve().parents[1]
CODE_DIRS = ("observations", "models", "inference", "experiments", "configs")


def enabled(env=os.environ) -> bool:
    return env.get("CARGOINFER_WORKER", "1").strip().lower() not in ("0", "off", "false", "no")


def idle_seconds(env=os.environ) -> float:
    try:
        return float(env.get("CARGOINFER_WORKER_IDLE", IDLE_S))
    except ValueError:
        return IDLE_S


def code_key() -> str:
    """The digest that names a worker: the code it runs and what it imported."""
    h = hashlib.sha256()
    files = [PACKAGE / "__init__.py", PACKAGE / "requirements.lock",
             PACKAGE / "requirements-run.lock"]
    for d in CODE_DIRS:
        files += sorted(p for p in (PACKAGE / d).rglob("*")
                        if p.suffix in (".py", ".yaml") and "__pycache__" not in p.parts)
    for p in files:
        if p.is_file():
            h.update(str(p.relative_to(PACKAGE)).encode() + b"\0" + p.read_bytes() + b"\0")
    site = Path(sysconfig.get_paths()["purelib"])
    if site.is_dir():
        h.update("\n".join(sorted(n for n in os.listdir(site) if n.endswith(".dist-info"))).encode())
    h.update(f"{sys.executable}\0{sys.version}\0{PACKAGE}".encode())
    for k in sorted(os.environ):
        if k in ENV_READ_AT_IMPORT or k.startswith(("NUMBA_", "PYTENSOR")):
            h.update(f"{k}={os.environ[k]}\0".encode())
    return h.hexdigest()[:20]


def folder(env=os.environ) -> Path | None:
    """The user's worker folder, created 0700; None if it is not private to the user."""
    base = env.get("CARGOINFER_WORKER_DIR") or (
        f"{env['XDG_RUNTIME_DIR']}/cargoinfer" if env.get("XDG_RUNTIME_DIR")
        else f"/tmp/cargoinfer-{os.getuid()}")
    path = Path(base)
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError:
        return None
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None
    return path


# --- the client ------------------------------------------------------------------------


def run(argv: list[str]) -> int | None:
    """Run a served command in the worker; None when it is to run in this process
    (switched off, not a served command, or no worker could be reached)."""
    if not argv or argv[0] not in SERVED or not enabled():
        return None
    where = folder()
    if where is None:
        return None
    key = code_key()
    sock = _connect(where / f"w-{key}.sock") or _start(where, key)
    if sock is None:
        return None
    return _request(sock, key, argv)


def _connect(path: Path) -> socket.socket | None:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(str(path))
        return s
    except OSError:
        s.close()
        return None


@contextmanager
def _locked(path: Path):
    import fcntl

    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _start(where: Path, key: str, wait_s: float = 120.0) -> socket.socket | None:
    """Start this code's worker (one at a time: a lock file) and connect to it."""
    path = where / f"w-{key}.sock"
    with _locked(where / f"w-{key}.lock"):
        sock = _connect(path)
        if sock is not None:
            return sock
        path.unlink(missing_ok=True)  # a dead worker's
        retire_others(where, key)
        with open(where / f"w-{key}.log", "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cargoinfer.experiments.worker", str(path), key],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                close_fds=True)
        t0 = time.monotonic()
        while time.monotonic() - t0 < wait_s and proc.poll() is None:
            sock = _connect(path)
            if sock is not None:
                return sock
            time.sleep(0.05)
    return None


def retire_others(where: Path, key: str) -> None:
    """Ask the workers of older code from this same package to exit when idle."""
    for info in where.glob("w-*.json"):
        try:
            other = json.loads(info.read_text())
        except (OSError, ValueError):
            continue
        if other.get("key") != key and other.get("package") == str(PACKAGE):
            try:
                os.kill(int(other["pid"]), signal.SIGUSR1)
            except (OSError, KeyError, ValueError):
                pass


def _lines(sock: socket.socket):
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield json.loads(line)


def _request(sock: socket.socket, key: str, argv: list[str]) -> int | None:
    header = {"key": key, "argv": argv, "cwd": os.getcwd(), "env": dict(os.environ),
              "umask": _umask()}
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        socket.send_fds(sock, [json.dumps(header).encode() + b"\n"], [0, 1, 2])
    except OSError:
        return None

    def forward(signum, frame):  # Ctrl-C or SIGTERM: the command is interrupted there
        try:
            sock.sendall(b"interrupt\n")
        except OSError:
            pass

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    pid = None
    try:
        for msg in _lines(sock):
            if "refused" in msg:
                return None
            if "pid" in msg:
                pid = msg["pid"]
            if "exit" in msg:
                return int(msg["exit"])
    except (OSError, ValueError):
        pass
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        sock.close()
    if pid is None:  # refused before it started: run it here
        return None
    print(f"cargoinfer: the worker (pid {pid}) stopped before `{argv[0]}` finished; "
          "nothing it was writing was completed (CARGOINFER_WORKER=0 runs commands in "
          "their own process)", file=sys.stderr)
    return 1


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# --- the worker ------------------------------------------------------------------------


class _State:
    retire = False


def serve(path: Path, key: str) -> None:
    """Accept commands one at a time until idle for CARGOINFER_WORKER_IDLE seconds."""
    from . import cli
    from ..inference.logs import quiet

    quiet()
    from . import run as _run, api as _api  # noqa: F401 (the fit's imports, paid once)
    import nutpie  # noqa: F401
    import pymc  # noqa: F401

    signal.signal(signal.SIGUSR1, lambda *_: setattr(_State, "retire", True))
    signal.signal(signal.SIGTERM, lambda *_: setattr(_State, "retire", True))
    idle = idle_seconds()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        srv.bind(str(path))
    finally:
        os.umask(old)
    os.chmod(path, 0o600)
    srv.listen(16)
    srv.settimeout(0.5)
    info = path.with_suffix(".json")
    info.write_text(json.dumps({"pid": os.getpid(), "key": key, "package": str(PACKAGE),
                                "python": sys.executable, "idle_s": idle,
                                "started": time.time()}))
    inode = path.stat().st_ino
    last = time.monotonic()
    try:
        while not _State.retire and time.monotonic() - last < idle:
            try:
                conn, _ = srv.accept()
            except (TimeoutError, socket.timeout, KeyboardInterrupt):
                continue
            conn.settimeout(None)
            try:
                _handle(conn, key, cli)
            except KeyboardInterrupt:
                pass
            last = time.monotonic()
    finally:
        srv.close()
        try:
            if path.stat().st_ino == inode:
                path.unlink()
                info.unlink(missing_ok=True)
        except OSError:
            pass


def _receive(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            break
        data += more
    return json.loads(data), fds


def _handle(conn: socket.socket, key: str, cli) -> None:
    import _thread
    import threading
    import warnings

    try:
        header, fds = _receive(conn)
    except (OSError, ValueError):
        conn.close()
        return
    if header.get("key") != key or len(fds) != 3:  # another version's client: not ours
        for fd in fds:
            os.close(fd)
        conn.sendall(json.dumps({"refused": "another version of the code"}).encode() + b"\n")
        conn.close()
        return
    conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fds = [os.dup(i) for i in range(3)]
    saved_env, saved_cwd, saved_mask = dict(os.environ), os.getcwd(), os.umask(header["umask"])
    for i, fd in enumerate(fds):
        os.dup2(fd, i)
        os.close(fd)
    os.environ.clear()
    os.environ.update(header["env"])
    code = 1
    done = threading.Event()

    def watch():  # the client asked to interrupt, or went away: stop the command
        try:
            while not done.is_set():
                msg = conn.recv(64)
                if not done.is_set() and (not msg or b"interrupt" in msg):
                    _thread.interrupt_main()
                if not msg:
                    return
        except OSError:
            return

    try:
        os.chdir(header["cwd"])
        sys.stdout.reconfigure(line_buffering=os.isatty(1))
        threading.Thread(target=watch, daemon=True).start()
        with warnings.catch_warnings():  # warnings shown once per command, as in a new process
            code = cli.main(list(header["argv"]))
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except KeyboardInterrupt:
        print("cargoinfer: interrupted", file=sys.stderr)
        code = 1
    except BaseException as e:  # noqa: BLE001 (a worker failure: one line, as cli.main does)
        print(f"cargoinfer: {header['argv'][0]} failed in the worker: {type(e).__name__}: {e}",
              file=sys.stderr)
        code = 1
    finally:
        done.set()
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except OSError:
                pass
        _stop_pools()
        for i, fd in enumerate(saved_fds):
            os.dup2(fd, i)
            os.close(fd)
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        os.umask(saved_mask)
    try:
        conn.sendall(json.dumps({"exit": int(code)}).encode() + b"\n")
    except OSError:
        pass
    conn.close()


def _stop_pools() -> None:
    """joblib's reusable process pool outlives a command: end it, as a new process would."""
    loky = sys.modules.get("joblib.externals.loky.reusable_executor")
    if loky is not None and getattr(loky, "_executor", None) is not None:
        try:
            loky._executor.shutdown(wait=True)
        except Exception:  # noqa: BLE001
            pass
        loky._executor = None


def status(where: Path | None = None) -> list[dict]:
    """This user's live workers (from their .json records)."""
    where = where or folder()
    out, key = [], code_key()
    for info in sorted(where.glob("w-*.json")) if where else []:
        try:
            rec = json.loads(info.read_text())
            os.kill(int(rec["pid"]), 0)
        except (OSError, ValueError, KeyError):
            continue
        out.append({**rec, "current": rec.get("key") == key})
    return out


def stop(where: Path | None = None) -> int:
    """Ask every live worker of this user to exit once its command is done."""
    found = status(where)
    for rec in found:
        try:
            os.kill(int(rec["pid"]), signal.SIGTERM)
        except OSError:
            pass
    return len(found)


if __name__ == "__main__":
    serve(Path(sys.argv[1]), sys.argv[2])

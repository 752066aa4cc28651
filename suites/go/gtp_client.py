"""Go Text Protocol, controller side: `GtpClient` runs an external engine (GNU Go) as a subprocess and
exchanges GTP commands with it over pipes. Pure Python (no Keras import)."""

from __future__ import annotations

import collections
import os
import queue
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path

from convsuite.common.errors import ConvsuiteError
from convsuite.suites.go.gtp import _one_line

GNUGO_FALLBACK = "/usr/games/gnugo"  # Debian/Ubuntu install gnugo outside the default PATH


class GtpError(ConvsuiteError):
    """An external engine refused a command ("? ...") or stopped answering (exit, EOF, timeout).

    `response` is the engine's own error message for a refusal, None when the engine is gone or silent,
    so callers can tell "the engine said no" (game logic) from "the engine broke" (infrastructure).
    """

    def __init__(self, message: str, command: str = "", response: str | None = None):
        super().__init__(message)
        self.command = command
        self.response = response


def _resolve_program(args: list[str], cwd: str | Path | None = None) -> list[str]:
    """Find the engine binary, with GNU Go's Debian location as a fallback; fail with the install hint."""
    if not args:
        raise ConvsuiteError(
            "the GTP engine command is empty; give the program and its arguments, e.g. 'gnugo --mode gtp'."
        )
    program = args[0]
    if cwd is not None and os.sep in program and not os.path.isabs(program):
        # Popen looks a relative program path up from cwd, so check it there too.
        if os.access(os.path.join(cwd, program), os.X_OK):
            return list(args)
    found = shutil.which(program)
    if found is None and os.path.basename(program) == "gnugo" and os.access(GNUGO_FALLBACK, os.X_OK):
        found = GNUGO_FALLBACK
    if found is None:
        hint = "apt-get install gnugo" if os.path.basename(program) == "gnugo" else "install it"
        raise ConvsuiteError(
            f"GTP engine program {program!r} was not found on PATH; {hint} or give the full path to the program."
        )
    return [found, *args[1:]]


class GtpClient:
    """Controller side: runs an engine subprocess and exchanges GTP commands with it over pipes.

    Each command carries an id, so a late answer to a timed-out command is recognised and skipped
    instead of being taken as the answer to the next one. stdout is read by a thread (timeouts without
    select(), which pipes on Windows lack); stderr is drained by another (a full stderr pipe would block
    the engine) and its tail goes into error messages.
    """

    def __init__(self, command: str | list[str], cwd: str | Path | None = None, timeout: float = 60):
        args = shlex.split(command) if isinstance(command, str) else [str(a) for a in command]
        self.args = _resolve_program(args, cwd)
        self.program = os.path.basename(self.args[0])
        self.timeout = float(timeout)
        self._next_id = 1
        try:
            self.process = subprocess.Popen(
                self.args,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                text=True,
                encoding="utf-8",
                errors="replace",
                bufsize=1,
            )
        except OSError as exc:
            raise ConvsuiteError(
                f"could not start GTP engine {self.args[0]!r}: {exc}; check the path and permissions."
            ) from None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        threading.Thread(target=self._pump_stdout, daemon=True).start()
        threading.Thread(target=self._pump_stderr, daemon=True).start()

    def _pump_stdout(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)  # EOF marker

    def _pump_stderr(self) -> None:
        for line in self.process.stderr:
            self._stderr.append(line.rstrip("\n"))

    def _gone(self, command: str, what: str) -> GtpError:
        code = self.process.poll()
        status = f"exited with code {code}" if code is not None else "is still running"
        tail = " | ".join(list(self._stderr)[-5:])
        return GtpError(
            f"GTP engine {self.program} {what} on {command!r} ({status}){'; stderr: ' + tail if tail else ''}.",
            command=command,
        )

    def send(self, command: str) -> str:
        """Send one command; return the response body (no "= ", no trailing blank line) or raise GtpError."""
        command = command.strip()
        if not command or "\n" in command or "\r" in command:
            raise ConvsuiteError(f"GTP command {command!r} must be a single non-empty line.")
        if self.process.poll() is not None and self._lines.empty():
            raise self._gone(command, "is not running")
        ident = self._next_id
        self._next_id += 1
        try:
            self.process.stdin.write(f"{ident} {command}\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise self._gone(command, "closed its input") from None
        deadline = _now() + self.timeout
        while True:
            status, reply_id, body = self._read_response(command, deadline)
            if reply_id is None or reply_id == ident:
                break  # reply_id < ident: a late answer to an earlier, timed-out command
        if status == "?":
            message = _one_line(body)
            raise GtpError(
                f"GTP engine {self.program} refused {command!r}: {message}", command=command, response=message
            )
        return body

    def _read_response(self, command: str, deadline: float) -> tuple[str, int | None, str]:
        lines: list[str] = []
        while True:
            remaining = deadline - _now()
            if remaining <= 0:
                raise self._gone(command, f"did not answer within {self.timeout:g} s")
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                raise self._gone(command, f"did not answer within {self.timeout:g} s") from None
            if line is None:
                self._lines.put(None)  # keep the EOF visible to later calls
                raise self._gone(command, "ended its output")
            line = line.rstrip("\r\n")
            if not lines:
                if not line.strip() or line[0] not in "=?":
                    continue  # stray output before a response (some engines print banners)
                lines.append(line)
                continue
            if not line.strip():
                break
            lines.append(line)
        head = lines[0]
        status, rest = head[0], head[1:]
        digits = len(rest) - len(rest.lstrip("0123456789"))
        reply_id = int(rest[:digits]) if digits else None
        rest = rest[digits:]
        if rest.startswith(" "):
            rest = rest[1:]
        body = "\n".join([rest, *lines[1:]]).rstrip()
        return status, reply_id, body

    def known(self, command: str) -> bool:
        """Whether the engine implements `command` (GTP `known_command`)."""
        try:
            return self.send(f"known_command {command}").strip().lower() == "true"
        except GtpError as exc:
            if exc.response is None:
                raise
            return False

    def close(self) -> None:
        """Ask the engine to quit; kill it if it does not within a few seconds. Safe to call twice."""
        process = getattr(self, "process", None)
        if process is None:
            return
        if process.poll() is None:
            saved, self.timeout = self.timeout, min(self.timeout, 5.0)
            try:
                self.send("quit")
            except ConvsuiteError:
                pass
            finally:
                self.timeout = saved
            try:
                process.stdin.close()  # an engine that ignored quit still ends on end of input
            except Exception:
                pass
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            try:
                stream.close()
            except Exception:
                pass

    def __enter__(self) -> GtpClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _now() -> float:
    return time.monotonic()

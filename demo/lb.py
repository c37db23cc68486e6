"""The load balancer's nginx under a private prefix, for the demo and the end-to-end tests.

Everything nginx writes lives in one directory: the configuration ctmpl renders, the pid file
and the error log (at level ``notice``, so each reload is logged). The master runs in the
foreground (``daemon off``) so that whoever started it can stop its whole process group.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Where distributions put nginx when ``sbin`` directories are not on a user's PATH.
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin")

#: The master's notice for each reload signal (``nginx -s reload`` sends SIGHUP).
RELOAD_NOTICE = re.compile(r"signal 1 \(SIGHUP\) received.*reconfiguring")


def find_nginx() -> str | None:
    """The nginx binary on PATH or in the usual sbin directories, or None."""
    path = os.pathsep.join([os.environ.get("PATH", ""), *SBIN_DIRS])
    return shutil.which("nginx", path=path)


@dataclass(frozen=True)
class LoadBalancer:
    """nginx with ``-p prefix``; the configuration is ``prefix/nginx.conf``."""

    binary: str
    prefix: Path

    @property
    def conf(self) -> Path:
        return self.prefix / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.prefix / "nginx.pid"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def argv(self, *extra: str, foreground: bool = False) -> list[str]:
        """nginx's command line for this prefix, with ``extra`` flags (``-t``, ``-s reload``)."""
        directives = f"pid {self.pid_file}; error_log {self.error_log} notice;"
        if foreground:
            directives += " daemon off;"
        return [
            self.binary,
            "-p",
            str(self.prefix),
            "-c",
            str(self.conf),
            "-e",
            str(self.error_log),
            "-g",
            directives,
            *extra,
        ]

    def reload_command(self) -> str:
        """``nginx -s reload ...`` as one shell command, for ctmpl's ``-template in:out:cmd``."""
        command = shlex.join(self.argv("-s", "reload"))
        if ":" in command:
            # -template splits at colons; a path with one would cut the command apart.
            raise ValueError(f"nginx's paths must not contain ':' ({command})")
        return command

    def test(self) -> subprocess.CompletedProcess[str]:
        """``nginx -t`` on the current configuration."""
        return subprocess.run(
            self.argv("-t"), capture_output=True, text=True, timeout=30, check=False
        )

    def master_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def reloads(self) -> int:
        """How many reload signals the master has received (from its error log)."""
        try:
            text = self.error_log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return 0
        return len(RELOAD_NOTICE.findall(text))

"""Logging that behaves like the shell library's ``ocf_log``.

Where a message goes, as resource-agents' ``ha_log`` decides it:

- ``HA_LOGFACILITY`` (e.g. ``daemon``): syslog with that facility; ``none`` or empty: no syslog.
- ``HA_LOGFILE``: appended to that file. Debug messages go to ``HA_DEBUGLOG`` when it is set.
- stderr when it is a terminal (someone runs the agent by hand) or when no other destination
  is configured, so that nothing is silently dropped; Pacemaker's executor logs stderr.
- debug messages only with ``HA_debug=1`` (or ``OCF_TRACE_RA``, below). ``crm_resource``
  passes ``HA_debug=0``: these are strings, and "0" means off.

``HA_LOGTAG`` names the writer (default ``AGENT(INSTANCE)[PID]``). With ``OCF_TRACE_RA`` set
(or the resource's ``trace_ra`` attribute, resource-agents' way: ``pcs resource update R
trace_ra=1``), :meth:`Logger.trace` records every external command, its exit code, its output
and how long it took, each line stamped with the time in milliseconds and the time since the
action began (where an action spends its time), in ``OCF_TRACE_FILE`` (or ``trace_file``)
when that is set and as debug lines otherwise.
"""

from __future__ import annotations

import os
import sys
import time

TYPE_CHECKING = False  # typing is imported by type checkers only (see .record)
if TYPE_CHECKING:
    from typing import Mapping

_SYSLOG_PRIORITY = {"debug": 7, "info": 6, "warning": 4, "err": 3, "crit": 2}


class Logger:
    """One agent invocation's logger, configured from the environment it was given."""

    def __init__(self, environ: Mapping[str, str], agent_name: str = "ocf-agent") -> None:
        instance = environ.get("OCF_RESOURCE_INSTANCE", "")
        pid = os.getpid()  # as ocf_log: NAME(INSTANCE)[PID], or NAME[PID] without an instance
        default_tag = f"{agent_name}({instance})[{pid}]" if instance else f"{agent_name}[{pid}]"
        self.tag = environ.get("HA_LOGTAG") or default_tag
        facility = environ.get("HA_LOGFACILITY") or environ.get("PCMK_logfacility") or ""
        self.facility = "" if facility.lower() == "none" else facility
        self.logfile = environ.get("HA_LOGFILE") or environ.get("PCMK_logfile") or ""
        self.debuglog = environ.get("HA_DEBUGLOG") or environ.get("PCMK_debuglog") or ""
        self.debug_on = environ.get("HA_debug", "0").strip() == "1"
        trace = environ.get("OCF_TRACE_RA") or environ.get("OCF_RESKEY_trace_ra") or ""
        self.tracing = trace.strip().lower() in ("1", "yes", "true", "on")
        self.tracefile = environ.get("OCF_TRACE_FILE") or environ.get("OCF_RESKEY_trace_file") or ""
        self._began = time.monotonic()
        self._interactive = sys.stderr.isatty()

    # -- the ocf_log levels -------------------------------------------------------------
    def debug(self, message: str) -> None:
        self.log("debug", message)

    def info(self, message: str) -> None:
        self.log("info", message)

    def warning(self, message: str) -> None:
        self.log("warning", message)

    def error(self, message: str) -> None:
        self.log("err", message)

    def crit(self, message: str) -> None:
        self.log("crit", message)

    def log(self, level: str, message: str) -> None:
        """Send one message to every configured destination for its level."""
        if level not in _SYSLOG_PRIORITY:
            raise ValueError(f"unknown log level {level!r}")
        if level == "debug" and not (self.debug_on or self.tracing):
            return
        line = f"{level.upper()}: {message}"
        wrote = False
        if self.facility:
            self._syslog(level, line)
            wrote = True
        target = self.debuglog if level == "debug" and self.debuglog else self.logfile
        if target:
            self._append(target, f"{self.tag}:\t{time.strftime('%Y/%m/%d_%H:%M:%S')} {line}")
            wrote = True
        if self._interactive or not wrote:
            print(f"{self.tag}: {line}", file=sys.stderr, flush=True)

    def trace(self, message: str) -> None:
        """Record an external command and its outcome when OCF_TRACE_RA asks for it."""
        if not self.tracing:
            return
        now = time.time()
        stamp = f"{time.strftime('%H:%M:%S', time.localtime(now))}.{int(now * 1000) % 1000:03d}"
        since = f"+{(time.monotonic() - self._began) * 1000:.0f}ms"
        if self.tracefile:
            self._append(self.tracefile, f"+ {stamp} {self.tag} {since} {message}")
        else:
            self.log("debug", f"trace: {since} {message}")

    def _syslog(self, level: str, line: str) -> None:
        import syslog  # only loaded when syslog is configured

        facility = getattr(syslog, f"LOG_{self.facility.upper()}", syslog.LOG_DAEMON)
        syslog.openlog(self.tag, 0, facility)
        syslog.syslog(_SYSLOG_PRIORITY[level], line)

    @staticmethod
    def _append(path: str, line: str) -> None:
        try:
            with open(path, "a", encoding="utf-8") as stream:
                print(line, file=stream)
        except OSError as err:
            print(f"cannot write log file {path}: {err}", file=sys.stderr)

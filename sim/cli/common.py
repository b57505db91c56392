"""What every `sahel-sim` command shares: exit codes and the bad-input error."""

from __future__ import annotations

# 0 success, 1 a run failed, 2 bad input (a one-line message, no traceback), 130 interrupted,
# 141 the output pipe was closed (SIGPIPE), 143 terminated (SIGTERM).
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130
EXIT_BROKEN_PIPE, EXIT_TERMINATED = 141, 143


class UsageError(Exception):
    """Bad input detected by a command (printed as one line, exit code 2)."""

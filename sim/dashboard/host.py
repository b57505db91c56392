"""Where the dashboard listens: loopback only unless the user asks otherwise.

`solara run` binds to `--host`, else `$SOLARA_HOST`, else `$HOST`, else "localhost". An
inherited `HOST` (set by some shells and container images) would silently expose a session's
model to the network, so the app checks the address the server was started on (solara puts it
in `$SERVER_NAME`) and logs a warning when it is not a loopback address.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket

logger = logging.getLogger(__name__)

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True if `host` (a name or an address) only reaches this machine."""
    host = host.strip().strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(
        ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def check_bind_host() -> str | None:
    """Warn (log) when the solara server listens beyond this machine; return the host."""
    host = os.environ.get("SERVER_NAME")
    if host is not None and not is_loopback(host):
        logger.warning(
            "sahel-sim dashboard: the server listens on %r, reachable from other machines; "
            "every visitor can run models on this computer. Use `--host 127.0.0.1` (and unset "
            "HOST/SOLARA_HOST) to keep it local.", host)
    return host

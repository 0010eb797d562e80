"""Which host names mean this machine only: `serve --no-auth` listens on nothing else, and answers nothing else."""

from __future__ import annotations

import ipaddress

LOCAL_NAMES = {"localhost", "localhost."}


def is_loopback(host: str | None) -> bool:
    """127.0.0.0/8, ::1 (also as [::1]) or localhost."""
    if host is None:
        return False
    if host.lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False

"""What `encounter serve` hands Uvicorn besides the app: its HTTP protocol, with Nagle's algorithm off."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]  # a class chosen at import
    """Uvicorn's own protocol, answering without waiting for the client's delayed ACK.

    asyncio turns Nagle off only on sockets it created itself; with `--workers`
    Uvicorn creates the listening socket, and each reply on a kept-alive
    connection then waited about 40 ms for the client's ACK.
    """

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        connection = transport.get_extra_info("socket")
        if connection is not None and connection.family in (socket.AF_INET, socket.AF_INET6):
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)

"""A TCP proxy in front of PostgreSQL that a test can take away and bring back.

`stop()` closes the listening socket and cuts every open connection: the database is gone, as
after a crash or a failover. `blackhole()` keeps accepting connections but forwards nothing: the
database hangs, as behind a dead network path. `start()` brings it back on the same port.

Every connection the proxy accepts is its own to cut: since Python 3.12.1
`asyncio.Server.wait_closed()` waits until every accepted connection is closed, and a connection
whose client gave up stays half-open on this side forever, so the proxy aborts them all before it
waits, and bounds the wait.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import URL

CHUNK = 65536
CLOSE_TIMEOUT = 5.0  # seconds; closing cut connections takes a loop iteration or two


Streams = tuple[asyncio.StreamReader, asyncio.StreamWriter]


def opener(url: URL) -> Callable[[], Awaitable[Streams]]:
    """How to reach the server of `url`: its Unix socket (`?host=/dir`) or its TCP address."""
    socket_directory = url.query.get("host")
    if isinstance(socket_directory, str) and socket_directory.startswith("/"):
        path = f"{socket_directory}/.s.PGSQL.{url.port or 5432}"
        return lambda: asyncio.open_unix_connection(path)
    return lambda: asyncio.open_connection(url.host or "127.0.0.1", url.port or 5432)


class DatabaseProxy:
    def __init__(self, open_target: Callable[[], Awaitable[Streams]]) -> None:
        self._open_target = open_target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._forwarding = True
        self._accepting = False

    async def start(self) -> None:
        self._forwarding = True
        self._accepting = True
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def blackhole(self) -> None:
        """Accept new connections, then say nothing: connecting hangs until the client gives up."""
        self._forwarding = False
        self._cut_connections()

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        self._accepting = False
        server, self._server = self._server, None
        if server is not None:
            server.close()  # closes the listening socket now: the port is free for start()
        self._cut_connections()
        if server is not None:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await server.wait_closed()

    def _cut_connections(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        for task in self._tasks:
            task.cancel()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        if not self._accepting:  # accepted just before stop(), handled just after it
            client.transport.abort()
            return
        self._writers.add(client)
        if not self._forwarding:
            return  # held open, unanswered, until cut or the client gives up
        try:
            server_reader, server = await self._open_target()
        except OSError:
            client.transport.abort()
            return
        self._writers.add(server)
        for source, sink in ((client_reader, server), (server_reader, client)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while data := await source.read(CHUNK):
                sink.write(data)
                await sink.drain()
        sink.transport.abort()


@asynccontextmanager
async def database_proxy(url: URL) -> AsyncIterator[DatabaseProxy]:
    """A proxy on a local TCP port in front of the server of `url`."""
    proxy = DatabaseProxy(opener(url))
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()

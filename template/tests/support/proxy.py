"""A TCP proxy in front of PostgreSQL that a test can take away and bring back.

`stop()` closes the listening socket and cuts every open connection: the database is gone, as
after a crash or a failover. `blackhole()` keeps accepting connections but forwards nothing: the
database hangs, as behind a dead network path. `start()` brings it back on the same port.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

CHUNK = 65536


class DatabaseProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._forwarding = True

    async def start(self) -> None:
        self._forwarding = True
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    def blackhole(self) -> None:
        """Accept new connections, then say nothing: connecting hangs until the client gives up."""
        self._forwarding = False
        self._cut_connections()

    async def stop(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._cut_connections()

    def _cut_connections(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()
        for task in self._tasks:
            task.cancel()

    async def _serve(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        self._writers.add(client)
        if not self._forwarding:
            return  # held open, unanswered, until cut or the client gives up
        try:
            server_reader, server = await asyncio.open_connection(*self.target)
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
async def database_proxy(target_host: str, target_port: int) -> AsyncIterator[DatabaseProxy]:
    proxy = DatabaseProxy(target_host, target_port)
    await proxy.start()
    try:
        yield proxy
    finally:
        await proxy.stop()

"""A TCP relay on 127.0.0.1: ``python tests/s3_relay.py LISTEN_PORT TARGET_PORT``.

The S3 endpoint the tests use (tests/s3_server.py): ending this process is the server going
away for every client, while the server behind it keeps its objects. Only ever connects to
127.0.0.1. Must not look into the bytes it relays.
"""

from __future__ import annotations

import asyncio
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def main(listen: int, target: int) -> None:
    async def relay(client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            _pipe(client_reader, server_writer), _pipe(server_reader, client_writer)
        )

    server = await asyncio.start_server(relay, "127.0.0.1", listen, reuse_address=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))

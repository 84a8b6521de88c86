"""A minimal SMTP server for bench/notification/run.py: it answers every command at once, accepts
every message, keeps nothing but one line per message in a log file, and does no parsing. It
stands in for a fast mail relay, so the benchmark can show what the notification service itself
can do when the SMTP server is not the limit (devstack's mail sink parses and stores each message).

    python bench/notification/null_smtp.py --port 31126 --log FILE

Each accepted message appends `<unix time when the end of DATA arrived> <recipient>[ <recipient>...]`
to FILE (flushed per message; the file may be truncated while the server runs).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

import uvloop


class NullSmtp(asyncio.Protocol):
    def __init__(self, log) -> None:
        self.log = log
        self.buffer = b""
        self.in_data = False
        self.rcpts: list[str] = []

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(b"220 null-smtp ESMTP ready\r\n")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    return
                self.buffer = self.buffer[end + 5 :]
                self.in_data = False
                self.log.write(f"{time.time():.6f} {' '.join(self.rcpts)}\n")
                self.log.flush()
                self.rcpts = []
                self.transport.write(b"250 2.0.0 OK queued\r\n")
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                return
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.transport.write(b"250-null-smtp\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-SIZE 52428800\r\n250 HELP\r\n")
            elif verb == b"HELO":
                self.transport.write(b"250 null-smtp\r\n")
            elif verb == b"MAIL":
                self.rcpts = []
                self.transport.write(b"250 2.1.0 OK\r\n")
            elif verb == b"RCPT":
                address = line.split(b":", 1)[1].split(b">", 1)[0].strip(b" <").decode("utf-8", "replace").lower()
                self.rcpts.append(address)
                self.transport.write(b"250 2.1.5 OK\r\n")
            elif verb == b"DATA":
                self.in_data = True
                self.buffer = b"\r\n" + self.buffer  # the terminator may follow an empty body
                self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            elif verb == b"QUIT":
                self.transport.write(b"221 2.0.0 Bye\r\n")
                self.transport.close()
                return
            else:  # RSET, NOOP and the rest
                self.rcpts = [] if verb == b"RSET" else self.rcpts
                self.transport.write(b"250 2.0.0 OK\r\n")


async def main(port: int, path: str) -> None:
    log = open(path, "a", buffering=1 << 16)  # noqa: SIM115  # open for the life of the server; the process exit closes it
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: NullSmtp(log), "127.0.0.1", port)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"null SMTP on 127.0.0.1:{port}, log {path}", flush=True)
    await stop.wait()
    server.close()
    log.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log", required=True)
    args = parser.parse_args()
    uvloop.run(main(args.port, args.log))

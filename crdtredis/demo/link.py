"""A TCP link between two regions that can be cut and restored, and that can delay.

Each region reaches each peer's Redis through one of these: a loopback
forwarder. Cutting it closes its connections and refuses new ones, exactly
what a partition looks like to a sync worker; the region's own Redis stays
reachable for its local writes.

With ``delay`` (seconds, one way) it is a *delay line*: every chunk read
from one side is delivered to the other ``delay`` later, in order, while
later chunks are already on their way. A round trip costs ``2 * delay`` and
throughput is kept (a pipeline of a thousand commands still costs one round
trip), as on a long-distance link: regions are 80-250 ms apart.
"""

from __future__ import annotations

import queue
import socket
import threading
import time

from crdtredis.embedded import free_port


class Link:
    """A loopback forwarder to ``target_port``; ``delay`` seconds each way (0: none)."""

    def __init__(self, target_port: int, delay: float = 0.0) -> None:
        if delay < 0:
            raise ValueError(f"a link's delay must be >= 0 seconds, got {delay}")
        self.target_port = target_port
        self.delay = delay
        self.port = free_port()
        self._cut = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.2)
        threading.Thread(target=self._accept, daemon=True, name=f"link-{self.port}").start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def cut(self) -> None:
        self._cut.set()
        self._close_connections()

    def restore(self) -> None:
        self._cut.clear()

    def close(self) -> None:
        self._closed.set()
        self._close_connections()
        self._listener.close()

    def _close_connections(self) -> None:
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self._cut.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):  # no Nagle wait on the delayed chunks
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open.update((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Forward ``source`` to ``sink``, through a delay line when there is a delay."""
        line: queue.Queue[tuple[float, bytes]] | None = None
        if self.delay:
            line = queue.Queue()
            threading.Thread(target=self._deliver, args=(line, source, sink), daemon=True).start()
        try:
            while data := source.recv(65536):
                if line is None:
                    sink.sendall(data)
                else:
                    line.put((time.monotonic() + self.delay, data))
        except OSError:
            pass
        finally:
            if line is None:
                self._hang_up(source, sink)
            else:
                line.put((0.0, b""))  # the end, behind what is still on its way

    def _deliver(
        self, line: queue.Queue[tuple[float, bytes]], source: socket.socket, sink: socket.socket
    ) -> None:
        """Send each chunk when its time comes; hang up after the last."""
        try:
            while data := self._next(line):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self._hang_up(source, sink)

    @staticmethod
    def _next(line: queue.Queue[tuple[float, bytes]]) -> bytes:
        due, data = line.get()
        time.sleep(max(0.0, due - time.monotonic()))
        return data

    def _hang_up(self, source: socket.socket, sink: socket.socket) -> None:
        for sock in (source, sink):
            _close(sock)
        with self._lock:
            self._open.discard(source)
            self._open.discard(sink)


def _close(sock: socket.socket) -> None:
    """Shut down, then close: a close alone sends nothing while another thread
    still waits in recv on the socket (the other direction of the link)."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass

"""A write whose reply is lost is never sent again behind the caller's back: the
caller gets the error (outcome unknown), and the write counts once at most."""

from __future__ import annotations

import socket
import threading

import pytest
import redis

from crdtredis.embedded import RedisServer
from crdtredis.replication import Region
from crdtredis.store.scripts import script

pytestmark = pytest.mark.integration


class ReplyEater:
    """A proxy to ``port`` that forwards everything, except that it swallows the reply
    to the first call of ``marker`` and hangs up, as a connection cut mid-reply does."""

    def __init__(self, port: int, marker: bytes) -> None:
        self.port, self.marker = port, marker
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.eaten = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.listener.getsockname()[1]}/0"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.port))
            armed = threading.Event()
            threading.Thread(target=self._up, args=(client, server, armed), daemon=True).start()
            threading.Thread(target=self._down, args=(server, client, armed), daemon=True).start()

    def _up(self, client: socket.socket, server: socket.socket, armed: threading.Event) -> None:
        while data := self._recv(client):
            if self.marker in data and not self.eaten.is_set():
                armed.set()
            server.sendall(data)

    def _down(self, server: socket.socket, client: socket.socket, armed: threading.Event) -> None:
        while data := self._recv(server):
            if armed.is_set():
                self.eaten.set()
                for sock in (client, server):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the other thread's recv too
                    sock.close()
                return
            client.sendall(data)

    @staticmethod
    def _recv(sock: socket.socket) -> bytes:
        try:
            return sock.recv(65536)
        except OSError:
            return b""

    def close(self) -> None:
        self.listener.close()


def test_an_increment_whose_reply_is_lost_is_not_sent_again(redis_server: RedisServer) -> None:
    Region("eu", redis_server.url).counter("c").incr(1)
    eater = ReplyEater(redis_server.port, script("counter_add").sha.encode())
    try:
        region = Region("eu", eater.url)
        with pytest.raises(redis.exceptions.ConnectionError):
            region.counter("c").incr(10)
        assert eater.eaten.is_set()
    finally:
        eater.close()
    assert Region("eu", redis_server.url).counter("c").value() == 11  # once, not twice

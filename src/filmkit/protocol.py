"""How the grader, the fork servers and their children talk: framing and records.

Two kinds of connection, both Unix socket pairs made by the grader:

* **Control** (grader ↔ a fork server): a ``SOCK_SEQPACKET`` pair. One JSON record per packet,
  small, and the only place file descriptors travel (``SCM_RIGHTS``):
  ``{"op": "fork", "job": J}`` with one descriptor, the child's channel; ``{"op": "kill",
  "job": J}``; ``{"op": "import", "modules": [...]}``. The server answers ``{"ev": "ready"}``
  once, ``{"ev": "forked", "job": J}`` and ``{"ev": "exited", "job": J, "exit_code": n}``. The
  fork server never reads a job: it forks, hands the descriptor to the child, closes its own copy.
* **Channel** (grader ↔ one child, the sandbox's or the judge's, for one notebook): a
  ``SOCK_STREAM`` pair framed by :class:`multiprocessing.connection.Connection`'s
  ``send_bytes``/``recv_bytes`` (a length-prefixed frame) carrying JSON text, never pickles:
  its ``send``/``recv`` would unpickle what a submission wrote. A frame over
  :data:`MAX_FRAME` bytes or that is not a JSON object ends the run as a protocol error.

Every record a child sends names its job (``"job"``); the grader discards any other. The records
of one notebook's run (``i`` is the cell's index in the notebook):

=====================  =================================================================
grader → sandbox       ``job`` (cells, files, limits); ``call`` (name, args, kwargs: data;
                       scope: what the test deleted or rebound of the student's names);
                       ``resume`` (the judge is done with cell ``i``)
sandbox → grader       ``start`` / ``done`` (a student cell and its outputs); ``judge`` (cell
                       ``i`` is a test: the data of the names it reads); ``returned`` /
                       ``raised`` (a call's result); ``modules``; ``written`` (the files
                       the notebook created: data for ``autograded/``, never run); ``end``;
                       ``abort``; ``crash``
grader → judge         ``job`` (the test cells' sources, the submitted notebook); ``run`` (cell
                       ``i`` with the names' data); ``returned`` / ``raised``; ``end``
judge → grader         ``call`` (a test calls a student's function); ``judged`` (cell ``i``'s
                       outputs); ``modules`` (after ``end``, on a warm-up); ``crash``
=====================  =================================================================

Everything the sandbox sends is untrusted: the grader reads it as JSON and checks every field it
uses; data is decoded only in the judge (:func:`filmkit.plaindata.decode`).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any, Final

Record = dict[str, Any]
MAX_FRAME: Final = 256 << 20  # one record: a notebook's files, or one cell's outputs
MAX_CONTROL: Final = 1 << 16
CHILD_FD: Final = 3  # where a forked child finds its channel; every other descriptor is closed


class ProtocolError(Exception):
    """A peer sent something that is not a record of this protocol."""


class Channel:
    """One end of a notebook's stream socket: JSON records in length-prefixed frames."""

    def __init__(self, fd: int) -> None:
        self.conn = Connection(fd)
        self.received = 0  # bytes read, for the notebook's output budget

    def fileno(self) -> int:
        return self.conn.fileno()

    def send(self, record: Record) -> None:
        self.conn.send_bytes(json.dumps(record).encode())

    def poll(self, timeout: float | None = 0.0) -> bool:
        return self.conn.poll(timeout)

    def recv(self, timeout: float | None = None) -> Record | None:
        """The next record, or None at end of stream. TimeoutError when none came in time."""
        if timeout is not None and not self.conn.poll(timeout):
            raise TimeoutError("no record in time")
        try:
            body = self.conn.recv_bytes(MAX_FRAME)
        except EOFError:
            return None
        except OSError as error:  # "bad message length": oversized or corrupt frame
            raise ProtocolError(str(error)) from error
        self.received += len(body)
        try:
            record = json.loads(body)
        except ValueError as error:
            raise ProtocolError("a frame that is not JSON") from error
        if not isinstance(record, dict):
            raise ProtocolError("a frame that is not a JSON object")
        return record

    def close(self) -> None:
        self.conn.close()


def channel_pair() -> tuple[Channel, socket.socket]:
    """The grader's end as a :class:`Channel`, and the child's end to hand to a fork server."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return Channel(ours.detach()), theirs


def control_pair() -> tuple[socket.socket, socket.socket]:
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)


def send_control(sock: socket.socket, record: Record, fds: Sequence[int] = ()) -> None:
    body = json.dumps(record).encode()
    if fds:
        socket.send_fds(sock, [body], list(fds))
    else:
        sock.send(body)


def recv_control(sock: socket.socket) -> tuple[Record | None, list[int]]:
    """(record, descriptors received); (None, []) when the peer closed."""
    body, fds, _flags, _address = socket.recv_fds(sock, MAX_CONTROL, 4)
    if not body:
        for fd in fds:
            os.close(fd)
        return None, []
    try:
        record = json.loads(body)
    except ValueError as error:
        raise ProtocolError("a control packet that is not JSON") from error
    if not isinstance(record, dict):
        raise ProtocolError("a control packet that is not a JSON object")
    return record, list(fds)

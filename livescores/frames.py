"""Reading what a WebSocket client sends (RFC 6455), inflating compressed messages (RFC 7692).

Sans-IO: the socket feeds whatever bytes it receives to its `FrameReader` and acts on the events
it gets back. A client that breaks the protocol gets one `Failure`, whose code the socket closes
with; nothing is read after it, nor after the client's `Close`.

A reader is made for every open socket and most sit idle between pongs, so it holds no buffer,
no fragment list and no inflate state unless a frame, a message or the client's compression
context is under way. A message over `limit` bytes is refused as soon as a frame header says so,
before its payload is read, and a compressed one is never inflated past the limit.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from livescores.deflate import EMPTY_BLOCK, WINDOW_BITS, frame

PROTOCOL_ERROR = 1002
INVALID_DATA = 1007
MESSAGE_TOO_BIG = 1009

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0, 1, 2, 8, 9, 10
FIN, RSV1, RSV2_RSV3, OPCODE = 0x80, 0x40, 0x30, 0x0F
MASKED, SHORT_LENGTH = 0x80, 0x7F
LONGEST_CONTROL_PAYLOAD = 125
LONGEST_CLOSE_REASON = 123  # UTF-8 bytes: a close payload is the reason after a 2-byte code


class Message(NamedTuple):
    """A whole data message: `text` for a text message, `data` for a binary one."""

    text: str | None
    data: bytes | None


class Ping(NamedTuple):
    payload: bytes


class Pong(NamedTuple):
    payload: bytes


class Close(NamedTuple):
    """The client's close frame; `code` is None when the frame carried none."""

    code: int | None
    reason: str


class Failure(NamedTuple):
    """The client broke the protocol: the socket closes with `code`, `reason` in its log."""

    code: int
    reason: str


Event = Message | Ping | Pong | Close | Failure

# What a browser's keepalive answers with, every few seconds on every socket: made once.
EMPTY_PONG = Pong(b"")
EMPTY_PING = Ping(b"")


def is_valid_close_code(code: int) -> bool:
    """A code a client may close with (RFC 6455, 7.4): 1004-1006 and 1015 are never sent, and
    1012-1014, which servers send, are let through as other servers do."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def unmask(payload: bytes | bytearray, key: bytes | bytearray) -> bytes:
    """`payload` XORed with the 4-byte masking key, as one big integer rather than byte by byte."""
    length = len(payload)
    if not length:
        return b""
    keystream = (key * (length // 4 + 1))[:length]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(keystream, "little")).to_bytes(length, "little")


class FrameReader:
    """The frames one client sends, turned into events as their bytes arrive.

    `deflate` is whether the socket agreed to permessage-deflate, and `client_context_takeover`
    whether the client then keeps its compression context from one message to the next.
    """

    __slots__ = (
        "_buffer",
        "_compressed",
        "_finished",
        "_fragments",
        "_inflater",
        "_opcode",
        "_size",
        "_wanted",
        "client_context_takeover",
        "deflate",
        "limit",
    )

    def __init__(self, limit: int, deflate: bool = False, client_context_takeover: bool = True) -> None:
        self.limit = limit
        self.deflate = deflate
        self.client_context_takeover = client_context_takeover
        self._buffer: bytearray | None = None  # the bytes of an unfinished frame
        self._wanted = 0  # how many bytes the buffer must hold before it is worth parsing again
        self._fragments: list[bytes] | None = None  # the payloads of an unfinished message
        self._opcode = CONTINUATION  # TEXT or BINARY while a fragmented message is under way
        self._compressed = False  # that message's RSV1
        self._size = 0  # that message's payload bytes so far, compressed or not
        self._inflater: zlib._Decompress | None = None
        self._finished = False  # after a Close or a Failure

    @property
    def partial(self) -> bool:
        """Whether bytes of an unfinished frame, or frames of an unfinished message, are held."""
        return self._buffer is not None or self._fragments is not None

    def feed(self, data: bytes) -> list[Event]:
        """Every event completed by `data`, in order; a Failure, if any, comes last."""
        if self._finished:
            return []
        buffer = self._buffer
        if buffer is None and len(data) == 6 and data[0] == FIN | PONG and data[1] == MASKED:
            # A browser's keepalive answer, alone in its read: the frame most often read by far.
            return [EMPTY_PONG]
        chunk: bytes | bytearray = data
        if buffer is not None:
            buffer += data
            if len(buffer) < self._wanted:
                return []
            chunk = buffer
        events: list[Event] = []
        end = len(chunk)
        start = 0
        while True:
            # Header checks run again when a buffered frame is parsed anew; they change nothing.
            available = end - start
            if available < 2:
                wanted = 2
                break
            first, second = chunk[start], chunk[start + 1]
            opcode = first & OPCODE
            fin = first & FIN
            length = second & SHORT_LENGTH
            problem = self._header_problem(first, second, opcode)
            if problem is not None:
                events.append(problem)
                return events
            if length < 126:
                header = 6
            elif length == 126:
                header = 8
                if available < 4:
                    wanted = 4
                    break
                length = (chunk[start + 2] << 8) | chunk[start + 3]
                if length < 126:
                    events.append(self._fail(PROTOCOL_ERROR, "payload length not in its shortest form"))
                    return events
            else:
                header = 14
                if available < 10:
                    wanted = 10
                    break
                (length,) = struct.unpack_from("!Q", chunk, start + 2)
                if length >> 63:
                    events.append(self._fail(PROTOCOL_ERROR, "payload length with its top bit set"))
                    return events
                if length < 1 << 16:
                    events.append(self._fail(PROTOCOL_ERROR, "payload length not in its shortest form"))
                    return events
            if opcode < CLOSE and (self._size if opcode == CONTINUATION else 0) + length > self.limit:
                events.append(self._fail(MESSAGE_TOO_BIG, f"message over {self.limit} bytes"))
                return events
            if available < header + length:
                wanted = header + length
                break
            payload_start = start + header
            start = payload_start + length
            payload = unmask(chunk[payload_start:start], chunk[payload_start - 4 : payload_start]) if length else b""
            event = self._control(opcode, payload) if opcode >= CLOSE else self._data(opcode, fin, first, payload)
            if event is not None:
                events.append(event)
                if self._finished:
                    return events
        if not available:
            self._buffer = None
        elif buffer is None:
            self._buffer = bytearray(memoryview(data)[start:])
        elif start:
            self._buffer = buffer[start:]  # a copy of the rest: the big buffer of a long frame goes
        self._wanted = wanted
        return events

    def _header_problem(self, first: int, second: int, opcode: int) -> Failure | None:
        """What is wrong with a frame by its first two bytes, in the light of the message under way."""
        if not second & MASKED:
            return self._fail(PROTOCOL_ERROR, "unmasked frame from a client")
        if first & RSV2_RSV3:
            return self._fail(PROTOCOL_ERROR, "RSV2 or RSV3 set")
        if opcode >= CLOSE:
            if opcode > PONG:
                return self._fail(PROTOCOL_ERROR, f"unknown opcode {opcode}")
            if not first & FIN:
                return self._fail(PROTOCOL_ERROR, "fragmented control frame")
            if second & SHORT_LENGTH > LONGEST_CONTROL_PAYLOAD:
                return self._fail(PROTOCOL_ERROR, "control frame over 125 bytes")
            if first & RSV1:
                return self._fail(PROTOCOL_ERROR, "RSV1 set on a control frame")
        elif opcode == CONTINUATION:
            if self._fragments is None:
                return self._fail(PROTOCOL_ERROR, "continuation frame with no message under way")
            if first & RSV1:
                return self._fail(PROTOCOL_ERROR, "RSV1 set on a continuation frame")
        elif opcode > BINARY:
            return self._fail(PROTOCOL_ERROR, f"unknown opcode {opcode}")
        else:
            if self._fragments is not None:
                return self._fail(PROTOCOL_ERROR, "new message before the last one ended")
            if first & RSV1 and not self.deflate:
                return self._fail(PROTOCOL_ERROR, "RSV1 set without permessage-deflate")
        return None

    def _control(self, opcode: int, payload: bytes) -> Event:
        if opcode == PONG:
            return Pong(payload) if payload else EMPTY_PONG
        if opcode == PING:
            return Ping(payload) if payload else EMPTY_PING
        if not payload:
            self._finish()
            return Close(None, "")
        if len(payload) == 1:
            return self._fail(PROTOCOL_ERROR, "close frame with a 1-byte payload")
        code = (payload[0] << 8) | payload[1]
        if not is_valid_close_code(code):
            return self._fail(PROTOCOL_ERROR, f"invalid close code {code}")
        try:
            reason = payload[2:].decode()
        except UnicodeDecodeError:
            return self._fail(INVALID_DATA, "close reason is not valid UTF-8")
        self._finish()
        return Close(code, reason)

    def _data(self, opcode: int, fin: int, first: int, payload: bytes) -> Event | None:
        """The message a data frame completes, if it does."""
        if opcode == CONTINUATION:
            fragments = self._fragments
            assert fragments is not None  # the header was checked
            fragments.append(payload)
            if not fin:
                self._size += len(payload)
                return None
            opcode, compressed = self._opcode, self._compressed
            payload = b"".join(fragments)
            self._fragments, self._opcode, self._size = None, CONTINUATION, 0
        else:
            compressed = bool(first & RSV1)
            if not fin:
                self._fragments, self._opcode, self._compressed = [payload], opcode, compressed
                self._size = len(payload)
                return None
        if compressed:
            inflated = self._inflate(payload)
            if isinstance(inflated, Failure):
                return inflated
            payload = inflated
        if opcode == BINARY:
            return Message(None, payload)
        try:
            return Message(payload.decode(), None)
        except UnicodeDecodeError:
            return self._fail(INVALID_DATA, "text message is not valid UTF-8")

    def _inflate(self, compressed: bytes) -> bytes | Failure:
        inflater = self._inflater or zlib.decompressobj(-WINDOW_BITS)
        try:
            # One byte more than the limit: getting it means the message is too big, and a small
            # payload that would inflate a thousand times over is never inflated in full.
            inflated = inflater.decompress(compressed + EMPTY_BLOCK, self.limit + 1)
        except zlib.error:
            return self._fail(INVALID_DATA, "compressed message is not valid deflate data")
        if len(inflated) > self.limit:
            return self._fail(MESSAGE_TOO_BIG, f"message inflates to over {self.limit} bytes")
        if inflater.eof and inflater.unused_data not in (b"", EMPTY_BLOCK):
            return self._fail(INVALID_DATA, "data after the end of a compressed message")
        # A message that ended its deflate stream (a final block) leaves nothing to keep.
        self._inflater = inflater if self.client_context_takeover and not inflater.eof else None
        return inflated

    def _fail(self, code: int, reason: str) -> Failure:
        self._finish()
        return Failure(code, reason)

    def _finish(self) -> None:
        """Nothing more is read: let go of everything."""
        self._finished = True
        self._buffer = self._fragments = self._inflater = None
        self._size = 0


def close_frame(code: int, reason: str = "") -> bytes:
    """An unmasked server close frame; a reason too long for it is cut at a character's end."""
    encoded = reason.encode()
    if len(encoded) > LONGEST_CLOSE_REASON:
        encoded = encoded[:LONGEST_CLOSE_REASON].decode(errors="ignore").encode()
    return frame(FIN | CLOSE, struct.pack("!H", code) + encoded)


def pong_frame(payload: bytes) -> bytes:
    """An unmasked server pong frame, answering a ping with its payload."""
    if len(payload) > LONGEST_CONTROL_PAYLOAD:
        raise ValueError("a pong carries at most 125 bytes")
    return frame(FIN | PONG, payload)

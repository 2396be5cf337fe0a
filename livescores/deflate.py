"""permessage-deflate (RFC 7692) for the sockets the app writes frames to itself.

The app agrees to `server_no_context_takeover`: each compressed message it sends stands on its
own, so a message is compressed once and the same bytes go to every socket that negotiated the
extension, with no compressor kept per socket. Each message is the sender's choice (RSV1 set
or not): a snapshot, sent on every connect and reconnect, goes compressed; a push of a few rows
goes as it is.

What a client sends compressed (a scorer's command) is inflated by `Inflater`, which the
WebSocket parser under Hypercorn (wsproto) calls for every frame it reads. It holds an inflate
state only while a compressed message is being read, unless the client keeps its context
between messages (it did not offer `client_no_context_takeover`): then a socket that has sent
a compressed message keeps its inflate state, as the protocol requires.
"""

from __future__ import annotations

import struct
import zlib
from typing import Any, NamedTuple

from wsproto.frame_protocol import CloseReason, Opcode, RsvBits

NAME = "permessage-deflate"
WINDOW_BITS = 15  # what the app compresses with: offers that limit the server's window are declined
LEVEL = 6
EMPTY_BLOCK = b"\x00\x00\xff\xff"  # what a sync flush ends with, left off on the wire (RFC 7692, 7.2.1)
FIN_RSV1_TEXT = 0xC1
USED = RsvBits(True, False, False)
UNUSED = RsvBits(False, False, False)


class Agreement(NamedTuple):
    """What the app answers an offer with, and whether the client keeps its own context."""

    response: str
    client_context_takeover: bool


# The two answers, shared by every socket that gets one.
WITH_CLIENT_CONTEXT = Agreement(f"{NAME}; server_no_context_takeover", True)
WITHOUT_CLIENT_CONTEXT = Agreement(f"{NAME}; server_no_context_takeover; client_no_context_takeover", False)


def agree(offers: list[str] | None) -> Agreement | None:
    """The first offer of permessage-deflate the app can accept (the `Sec-WebSocket-Extensions`
    header split at its commas), or None to decline compression."""
    for offer in offers or ():
        name, *params = (part.strip() for part in offer.split(";"))
        if name.lower() != NAME:
            continue
        seen: set[str] = set()
        acceptable = True
        for param in params:
            key, _, value = (s.strip() for s in param.partition("="))
            key = key.lower()
            if key in seen:
                acceptable = False  # RFC 7692, 7: the same parameter twice declines the offer
            seen.add(key)
            if key in ("server_no_context_takeover", "client_no_context_takeover"):
                acceptable = acceptable and not value
            elif key == "server_max_window_bits":
                # Every socket gets the same compressed bytes, made with a 15-bit window.
                acceptable = acceptable and value.strip('"') == str(WINDOW_BITS)
            elif key == "client_max_window_bits":
                # The client's own window: any size can be inflated with a 15-bit one.
                acceptable = acceptable and (not value or value.strip('"') in {str(n) for n in range(8, 16)})
            else:
                acceptable = False
        if not acceptable:
            continue
        return WITHOUT_CLIENT_CONTEXT if "client_no_context_takeover" in seen else WITH_CLIENT_CONTEXT
    return None


def deflated_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame carrying `payload` compressed on its own (RSV1 set)."""
    compressor = zlib.compressobj(LEVEL, zlib.DEFLATED, -WINDOW_BITS)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return frame(FIN_RSV1_TEXT, data.removesuffix(EMPTY_BLOCK))


def frame(first_byte: int, payload: bytes) -> bytes:
    """A server frame: the first byte (FIN, RSV and opcode), the length, the unmasked payload."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first_byte, length)
    elif length < 1 << 16:
        header = struct.pack("!BBH", first_byte, 126, length)
    else:
        header = struct.pack("!BBQ", first_byte, 127, length)
    return header + payload


class Inflater:
    """The receiving half of permessage-deflate, in the shape of a wsproto extension.

    wsproto calls it for every frame a client sends: the header (is the message compressed?),
    each piece of payload as it arrives, and the frame's end. No message inflates to more than
    `limit` bytes (a small compressed frame can inflate a thousand times over): beyond that, as
    for data that is not deflate, the parser fails and Hypercorn ends the connection, as it does
    on any protocol error. What the app sends through the server goes out as it is.
    """

    __slots__ = ("_compressed", "_frame", "_inflated", "_inflater", "context_takeover", "limit")
    name = NAME

    def __init__(self, limit: int, context_takeover: bool) -> None:
        self.limit = limit
        self.context_takeover = context_takeover
        self._inflater: Any = None  # zlib's decompress object, while it is needed
        self._compressed = False  # the message being read
        self._frame = False  # the frame being read
        self._inflated = 0

    def enabled(self) -> bool:
        return True

    def frame_inbound_header(self, proto: object, opcode: Opcode, rsv: RsvBits, payload_length: int) -> Any:
        if opcode.iscontrol():  # may come between the frames of a message, and is never compressed
            self._frame = False
            return CloseReason.PROTOCOL_ERROR if rsv.rsv1 else UNUSED
        if opcode is Opcode.CONTINUATION:
            if rsv.rsv1:
                return CloseReason.PROTOCOL_ERROR
        else:
            self._compressed, self._inflated = rsv.rsv1, 0
        self._frame = self._compressed
        return USED

    def frame_inbound_payload_data(self, proto: object, data: bytes) -> Any:
        if not self._frame:
            return data
        if self._inflater is None:
            self._inflater = zlib.decompressobj(-WINDOW_BITS)
        return self._inflate(data)

    def frame_inbound_complete(self, proto: object, fin: bool) -> Any:
        if not (self._frame and fin):
            return None
        if self._inflater is None:  # a compressed message with an empty payload
            self._inflater = zlib.decompressobj(-WINDOW_BITS)
        tail = self._inflate(EMPTY_BLOCK)
        self._compressed = self._frame = False
        if not self.context_takeover:
            self._inflater = None
        return tail

    def _inflate(self, data: bytes) -> Any:
        try:
            # One byte more than the room left: getting it means the message is too big.
            inflated: bytes = self._inflater.decompress(data, self.limit - self._inflated + 1)
        except zlib.error:
            self._inflater = None
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        self._inflated += len(inflated)
        if self._inflated > self.limit:
            self._inflater = None
            return CloseReason.MESSAGE_TOO_BIG
        return inflated

    def frame_outbound(self, proto: object, opcode: Opcode, rsv: RsvBits, data: bytes, fin: bool) -> Any:
        return rsv, data

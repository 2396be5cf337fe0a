"""permessage-deflate (RFC 7692) for the sockets the app writes frames to itself.

The app agrees to `server_no_context_takeover`: each compressed message it sends stands on its
own, so a message is compressed once and the same bytes go to every socket that negotiated the
extension, with no compressor kept per socket. Each message is the sender's choice (RSV1 set
or not): a snapshot, sent on every connect and reconnect, goes compressed; a push of a few rows
goes as it is.

What a client sends compressed (a scorer's command) is inflated by the socket's frame reader
(frames.py). It holds an inflate state only while a compressed message is being read, unless
the client keeps its context between messages (it did not offer `client_no_context_takeover`):
then a socket that has sent a compressed message keeps its inflate state, as the protocol
requires.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from wsproto.frame_protocol import RsvBits

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

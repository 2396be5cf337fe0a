"""The app's permessage-deflate: which offers it accepts and what it answers, the compressed
frame a snapshot becomes, and the inflater under a real wsproto parser."""

from __future__ import annotations

import os
import struct
import zlib

import pytest
from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, TextMessage

from livescores.deflate import Agreement, Inflater, agree, deflated_frame
from livescores.transport import Encoded, text_frame

NO_SERVER_CONTEXT = "permessage-deflate; server_no_context_takeover"


@pytest.mark.parametrize(
    ("offers", "agreed"),
    [
        (["permessage-deflate; client_max_window_bits"], Agreement(NO_SERVER_CONTEXT, True)),  # Chromium's
        (["permessage-deflate"], Agreement(NO_SERVER_CONTEXT, True)),
        (
            ["permessage-deflate; client_no_context_takeover; client_max_window_bits=10"],
            Agreement(NO_SERVER_CONTEXT + "; client_no_context_takeover", False),
        ),
        (
            ["permessage-deflate; server_no_context_takeover; server_max_window_bits=15"],
            Agreement(NO_SERVER_CONTEXT, True),
        ),
        # An offer the app cannot keep is passed over for the next.
        (["permessage-deflate; server_max_window_bits=10", "permessage-deflate"], Agreement(NO_SERVER_CONTEXT, True)),
        (["permessage-deflate; server_max_window_bits=10"], None),
        (["permessage-deflate; client_max_window_bits=16"], None),
        (["permessage-deflate; some_future_parameter"], None),
        (["permessage-deflate; client_no_context_takeover; client_no_context_takeover"], None),
        (["permessage-deflate; server_no_context_takeover=1"], None),
        (["x-webkit-deflate-frame"], None),
        ([], None),
        (None, None),
    ],
)
def test_which_offers_are_accepted_and_the_answer(offers: list[str] | None, agreed: Agreement | None) -> None:
    assert agree(offers) == agreed


def test_a_deflated_frame_is_one_compressed_final_text_frame_that_inflates_to_the_message() -> None:
    message = "".join(f"<li id='match-{n}'>Arsenal {n % 7}–{n % 5} Chelsea</li>" for n in range(300)).encode()
    frame = deflated_frame(message)
    assert frame[0] == 0xC1 and frame[1] == 126
    (length,) = struct.unpack("!H", frame[2:4])
    assert len(frame) == 4 + length
    assert zlib.decompressobj(-15).decompress(frame[4:] + b"\x00\x00\xff\xff") == message
    # With its own context each time: the same message, the same bytes.
    assert deflated_frame(message) == frame


def test_an_encoded_message_compresses_only_when_it_is_smaller() -> None:
    board = Encoded("<li>row</li>" * 500)
    assert board.frame == text_frame(board.text) and len(board.deflated()) < len(board.frame) / 10
    assert board.deflated() is board.deflated()  # compressed once
    tiny = Encoded("<p>1</p>")
    assert tiny.deflated() == tiny.frame


def client_frame(payload: bytes, first: int) -> bytes:
    mask = os.urandom(4)
    header = (
        bytes([first, 0x80 | len(payload)])
        if len(payload) < 126
        else bytes([first, 0xFE]) + struct.pack("!H", len(payload))
    )
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def parser(context_takeover: bool, limit: int = 65536) -> Connection:
    """A server-side wsproto connection with the app's inflater installed, as compat.py does."""
    connection = Connection(ConnectionType.SERVER)
    protocol = connection._proto
    protocol.extensions = protocol._frame_decoder.extensions = [Inflater(limit, context_takeover)]  # type: ignore[list-item]
    return connection


def texts(connection: Connection, data: bytes) -> list[object]:
    connection.receive_data(data)
    return [e.data if isinstance(e, TextMessage) else e for e in connection.events()]


def test_messages_compressed_with_the_clients_context_and_fragments_with_a_ping_between() -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = compressor.compress(b'{"action": "goal"}') + compressor.flush(zlib.Z_SYNC_FLUSH)
    second = compressor.compress(b'{"action": "goal"}') + compressor.flush(zlib.Z_SYNC_FLUSH)
    connection = parser(context_takeover=True)
    assert texts(connection, client_frame(first[:-4], 0xC1)) == ['{"action": "goal"}']
    # The second refers back to the first: it reads only with the context kept.
    assert len(second) < len(first)
    assert texts(connection, client_frame(second[:-4], 0xC1)) == ['{"action": "goal"}']
    # A message in two frames (RSV1 on the first only), a ping between them, then a plain one.
    whole = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = (whole.compress(b"abc" * 100) + whole.flush(zlib.Z_SYNC_FLUSH))[:-4]
    data = client_frame(body[:5], 0x41) + client_frame(b"", 0x89) + client_frame(body[5:], 0x80)
    data += client_frame(b"plain", 0x81)
    events = texts(connection, data)
    assert "".join(e for e in events if isinstance(e, str)) == "abc" * 100 + "plain"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client_frame(b"", 0xC9), 1002),  # a compressed ping
        (client_frame(b"x", 0x41) + client_frame(b"y", 0xC0), 1002),  # RSV1 on a continuation
        (client_frame(b"\xff\xfe\xfd", 0xC1), 1007),  # not deflate
    ],
)
def test_what_the_inflater_refuses(data: bytes, code: int) -> None:
    events = texts(parser(context_takeover=False), data)
    assert isinstance(events[-1], CloseConnection) and events[-1].code == code


def test_no_message_inflates_beyond_the_limit() -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    bomb = (compressor.compress(b"\x00" * 1_000_000) + compressor.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert len(bomb) < 2000
    inflater = Inflater(4096, context_takeover=False)
    connection = Connection(ConnectionType.SERVER)
    connection._proto.extensions = connection._proto._frame_decoder.extensions = [inflater]  # type: ignore[list-item]
    events = texts(connection, client_frame(bomb, 0xC1))
    assert isinstance(events[-1], CloseConnection) and events[-1].code == 1009
    assert not any(isinstance(e, str) for e in events)
    # Exactly the limit is allowed.
    exact = zlib.compressobj(6, zlib.DEFLATED, -15)
    fits = (exact.compress(b"a" * 4096) + exact.flush(zlib.Z_SYNC_FLUSH))[:-4]
    assert texts(parser(False, 4096), client_frame(fits, 0xC1)) == ["a" * 4096]

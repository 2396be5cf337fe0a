"""The app's permessage-deflate: which offers it accepts and what it answers, and the
compressed frame a snapshot becomes (what clients send compressed: test_frames.py)."""

from __future__ import annotations

import struct
import zlib

import pytest

from livescores.deflate import Agreement, agree, deflated_frame
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

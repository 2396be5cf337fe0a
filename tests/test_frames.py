"""The reader of what clients send: messages whole, fragmented, split across reads and
compressed, every way a client can break the protocol, and bytes from a real client (wsproto)."""

from __future__ import annotations

import gc
import os
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, CloseConnection, TextMessage
from wsproto.events import Ping as WsprotoPing
from wsproto.events import Pong as WsprotoPong
from wsproto.extensions import PerMessageDeflate

from livescores.frames import Close, Event, Failure, FrameReader, Message, Ping, Pong, close_frame, pong_frame

TEXT, BINARY, CLOSE, PING, PONG = 1, 2, 8, 9, 10
LIMIT = 1 << 20


def client_frame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    length: int | None = None,
    length_bytes: int | None = None,
) -> bytes:
    """A frame as a client sends it, masked with a random key unless told otherwise; `length`
    and `length_bytes` set what the header claims and how, whatever the payload."""
    claimed = len(payload) if length is None else length
    if length_bytes is None:
        length_bytes = 0 if claimed < 126 else 2 if claimed < 1 << 16 else 8
    mask_bit = 0x80 if masked else 0
    header = bytes([(0x80 if fin else 0) | rsv << 4 | opcode])
    if length_bytes == 0:
        header += bytes([mask_bit | claimed])
    elif length_bytes == 2:
        header += bytes([mask_bit | 126]) + struct.pack("!H", claimed)
    else:
        header += bytes([mask_bit | 127]) + struct.pack("!Q", claimed)
    if not masked:
        return header + payload
    key = os.urandom(4)
    return header + key + bytes(byte ^ key[i % 4] for i, byte in enumerate(payload))


def text(message: str, fin: bool = True, rsv: int = 0, masked: bool = True) -> bytes:
    return client_frame(TEXT, message.encode(), fin=fin, rsv=rsv, masked=masked)


def compress(message: bytes, compressor: zlib._Compress | None = None) -> bytes:
    """What a browser sends for `message`: raw deflate, sync-flushed, its empty block left off."""
    compressor = compressor or zlib.compressobj(wbits=-15)
    data = compressor.compress(message) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def held(reader: FrameReader) -> list[object]:
    """The buffers, lists and inflate states the reader keeps alive."""
    return [
        kept
        for kept in gc.get_referents(reader)
        if (isinstance(kept, bytes | bytearray | list) and kept) or type(kept).__name__ == "Decompress"
    ]


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 200_000])
def test_a_single_frame_text_or_binary_message_at_every_length_encoding(size: int) -> None:
    words = ("é" * size)[: size // 2] + "a" * (size - 2 * (size // 2))  # `size` UTF-8 bytes
    reader = FrameReader(LIMIT)
    assert reader.feed(text(words)) == [Message(words, None)]
    data = os.urandom(size)
    assert reader.feed(client_frame(BINARY, data)) == [Message(None, data)]
    assert not reader.partial and not held(reader)


def test_a_fragmented_message_with_a_ping_and_a_pong_between_its_fragments() -> None:
    reader = FrameReader(LIMIT)
    whole = "Arsenal 2–1 Chelsea ⚽".encode()
    cut = whole.index("⚽".encode()) + 1  # inside a character: valid as a whole is what counts
    assert reader.feed(client_frame(TEXT, whole[:cut], fin=False)) == []
    assert reader.partial
    assert reader.feed(client_frame(PING, b"are you there")) == [Ping(b"are you there")]
    assert reader.feed(client_frame(0, b"", fin=False) + client_frame(PONG)) == [Pong(b"")]
    assert reader.feed(client_frame(0, whole[cut:])) == [Message(whole.decode(), None)]
    assert not reader.partial and not held(reader)
    assert reader.feed(client_frame(BINARY, b"ab", fin=False) + client_frame(0, b"cd")) == [Message(None, b"abcd")]


def test_a_lone_pong_read_by_itself_again_and_again() -> None:
    reader = FrameReader(LIMIT)
    for _ in range(3):
        assert reader.feed(client_frame(PONG)) == [Pong(b"")]
    assert reader.feed(text("a", fin=False)) == []
    assert reader.feed(client_frame(PONG)) == [Pong(b"")] and reader.partial  # the message is still under way
    pong = client_frame(PONG)
    assert reader.feed(pong[:3]) == [] and reader.feed(pong[3:] + client_frame(0, b"b")) == [
        Pong(b""),
        Message("ab", None),
    ]
    assert reader.feed(b"\x8a\x00" + b"1234") == [Failure(1002, "unmasked frame from a client")]


def test_several_frames_in_one_chunk_come_out_in_order() -> None:
    chunk = text("one") + client_frame(PING, b"p") + client_frame(BINARY, b"\x00two") + client_frame(PONG, b"q")
    assert FrameReader(LIMIT).feed(chunk) == [Message("one", None), Ping(b"p"), Message(None, b"\x00two"), Pong(b"q")]


def stream() -> bytes:
    """A bit of everything a client sends, a compressed message among it."""
    compressor = zlib.compressobj(wbits=-15)
    return b"".join(
        [
            text("first"),
            client_frame(PONG),
            client_frame(BINARY, os.urandom(300), fin=False),
            client_frame(PING, b"between"),
            client_frame(0, os.urandom(70_000)),
            client_frame(TEXT, compress(b"squeezed " * 50, compressor), rsv=4),
            client_frame(TEXT, compress(b"again " * 50, compressor), rsv=4),
            client_frame(CLOSE, struct.pack("!H", 1001) + b"bye"),
        ]
    )


def test_a_stream_split_at_every_byte_gives_the_same_events() -> None:
    data = stream()
    whole = FrameReader(LIMIT, deflate=True).feed(data)
    assert [type(event) for event in whole] == [Message, Pong, Ping, Message, Message, Message, Close]
    assert whole[-1] == Close(1001, "bye")
    # Every offset through the headers and the small frames, a stride through the big payload.
    offsets = [*range(0, 400), *range(400, len(data) - 3000, 997), *range(len(data) - 3000, len(data) + 1)]
    for offset in offsets:
        reader = FrameReader(LIMIT, deflate=True)
        assert reader.feed(data[:offset]) + reader.feed(data[offset:]) == whole, offset


def test_a_stream_fed_byte_by_byte_gives_the_same_events() -> None:
    data = b"".join(
        [text("hé"), client_frame(PING, b"x"), client_frame(TEXT, compress(b"zzz" * 90), rsv=4), text("b" * 200)]
    )
    reader = FrameReader(LIMIT, deflate=True)
    events: list[Event] = []
    for i in range(len(data)):
        events += reader.feed(data[i : i + 1])
    assert events == FrameReader(LIMIT, deflate=True).feed(data)
    assert events == [Message("hé", None), Ping(b"x"), Message("zzz" * 90, None), Message("b" * 200, None)]


@pytest.mark.parametrize("size", [2, 3, 5, 7, 13, 100, 1000, 4096])
def test_a_stream_fed_in_chunks_of_any_size_gives_the_same_events(size: int) -> None:
    data = stream()
    reader = FrameReader(LIMIT, deflate=True)
    events = [event for start in range(0, len(data), size) for event in reader.feed(data[start : start + size])]
    assert events == FrameReader(LIMIT, deflate=True).feed(data)


@st.composite
def conversations(draw: st.DrawFn) -> tuple[bytes, list[Event]]:
    """Messages, each cut into frames with pings between them, and what reading them gives."""
    frames = b""
    expected: list[Event] = []
    for _ in range(draw(st.integers(1, 6))):
        is_text = draw(st.booleans())
        payload = draw(st.text(max_size=300)).encode() if is_text else draw(st.binary(max_size=300))
        cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=4)))
        pieces = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            frames += client_frame(0 if n else TEXT if is_text else BINARY, piece, fin=last)
            if last:
                expected.append(Message(payload.decode(), None) if is_text else Message(None, payload))
            if draw(st.booleans()):
                ping = draw(st.binary(max_size=125))
                frames += client_frame(PING, ping)
                expected.append(Ping(ping))
    return frames, expected


@settings(max_examples=200, deadline=None)
@given(conversation=conversations(), data=st.data())
def test_any_messages_cut_into_any_frames_and_read_in_any_chunks(
    conversation: tuple[bytes, list[Event]], data: st.DataObject
) -> None:
    frames, expected = conversation
    cuts = sorted(data.draw(st.lists(st.integers(0, len(frames)), max_size=10)))
    reader = FrameReader(LIMIT)
    events = [
        event for a, b in zip([0, *cuts], [*cuts, len(frames)], strict=True) for event in reader.feed(frames[a:b])
    ]
    assert events == expected
    assert not reader.partial and not held(reader)


def test_partial_while_half_a_frame_or_half_a_message_is_held() -> None:
    reader = FrameReader(LIMIT)
    assert not reader.partial and not held(reader)
    frame = text("hello")
    for cut in range(1, len(frame)):
        reader = FrameReader(LIMIT)
        assert reader.feed(frame[:cut]) == [] and reader.partial
        assert reader.feed(frame[cut:]) == [Message("hello", None)] and not reader.partial
    assert reader.feed(text("hel", fin=False)) == [] and reader.partial
    assert reader.feed(client_frame(PING)) == [Ping(b"")] and reader.partial
    assert reader.feed(client_frame(0, b"lo")) == [Message("hello", None)]
    assert not reader.partial and not held(reader)


BROKEN: list[tuple[bytes, bool, int]] = [
    (text("plain", masked=False), False, 1002),
    (text("rsv2", rsv=2), False, 1002),
    (text("rsv3", rsv=1), False, 1002),
    (text("rsv1 without deflate", rsv=4), False, 1002),
    (client_frame(PING, b"", rsv=4), True, 1002),
    (text("a", fin=False) + client_frame(0, b"b", rsv=4), True, 1002),
    # A payload that would make a good close frame: an unknown opcode is no close.
    *[(client_frame(opcode, b"\x03\xe8"), False, 1002) for opcode in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15)],
    (client_frame(PING, b"", fin=False), False, 1002),
    (client_frame(PONG, b"", fin=False), False, 1002),
    (client_frame(CLOSE, b"", fin=False), False, 1002),
    (client_frame(PING, b"x" * 126), False, 1002),
    (client_frame(CLOSE, b"\x03\xe8" + b"x" * 124), False, 1002),
    (client_frame(0, b"lost"), False, 1002),
    (text("first", fin=False) + text("second"), False, 1002),
    (text("first", fin=False) + client_frame(BINARY, b"second"), False, 1002),
    (client_frame(BINARY, b"", length=1 << 63, length_bytes=8), False, 1002),
    (client_frame(BINARY, b"abc", length_bytes=2), False, 1002),  # lengths in their shortest form only
    (client_frame(BINARY, b"abc" * 100, length_bytes=8), False, 1002),
    (client_frame(CLOSE, b"\x03"), False, 1002),
    (client_frame(TEXT, b"\xff\xfe"), False, 1007),
    (client_frame(TEXT, "é".encode()[:1], fin=False) + client_frame(0, b"x"), False, 1007),
    (client_frame(TEXT, b"\xed\xa0\x80"), False, 1007),  # a UTF-16 surrogate is no UTF-8
    (client_frame(CLOSE, b"\x03\xe8\xff"), False, 1007),
    (client_frame(BINARY, b"x" * 4097), False, 1009),
    (client_frame(BINARY, b"x" * 4000, fin=False) + client_frame(0, b"x" * 97), False, 1009),
    (
        client_frame(BINARY, b"x" * 2000, fin=False)
        + client_frame(0, b"x" * 2000, fin=False)
        + client_frame(0, b"x" * 97),
        False,
        1009,
    ),
    (client_frame(TEXT, b"not deflate at all \xff\xff\xff", rsv=4), True, 1007),
    (client_frame(TEXT, compress(bytes(1 << 20)), rsv=4), True, 1009),  # a zip bomb
]


@pytest.mark.parametrize(("frames", "deflate", "code"), BROKEN)
def test_a_broken_frame_fails_with_its_code_and_keeps_what_came_before(frames: bytes, deflate: bool, code: int) -> None:
    before = client_frame(PONG) + text("fine") + client_frame(PING, b"p")
    reader = FrameReader(4096, deflate=deflate)
    events = reader.feed(before + frames + text("never read"))
    assert events[:3] == [Pong(b""), Message("fine", None), Ping(b"p")]
    assert len(events) == 4 and isinstance(events[3], Failure) and events[3].code == code
    assert 0 < len(events[3].reason.encode()) <= 123
    assert not reader.partial and not held(reader)
    assert reader.feed(text("after")) == [] and reader.feed(before) == []


@pytest.mark.parametrize(("frames", "deflate", "code"), BROKEN)
def test_a_broken_frame_fed_byte_by_byte_fails_alike(frames: bytes, deflate: bool, code: int) -> None:
    reader = FrameReader(4096, deflate=deflate)
    events = [event for i in range(len(frames)) for event in reader.feed(frames[i : i + 1])]
    assert len(events) == 1 and isinstance(events[0], Failure) and events[0].code == code
    assert not reader.partial and not held(reader)


def test_a_message_too_big_is_refused_by_its_header_before_its_payload() -> None:
    header = client_frame(BINARY, b"", length=10_000_000)[:10]  # no mask key, no payload
    reader = FrameReader(65536)
    [failure] = reader.feed(header)
    assert isinstance(failure, Failure) and failure.code == 1009
    assert not reader.partial and not held(reader)
    # Likewise a continuation that would take the message past the limit.
    reader = FrameReader(65536)
    assert reader.feed(client_frame(BINARY, b"x" * 60_000, fin=False)) == []
    [failure] = reader.feed(client_frame(0, b"", length=6000)[:4])
    assert isinstance(failure, Failure) and failure.code == 1009


def test_a_message_exactly_at_the_limit_is_read() -> None:
    reader = FrameReader(4096, deflate=True)
    assert reader.feed(client_frame(BINARY, b"x" * 4096)) == [Message(None, b"x" * 4096)]
    assert reader.feed(client_frame(BINARY, b"x" * 4000, fin=False) + client_frame(0, b"y" * 96)) == [
        Message(None, b"x" * 4000 + b"y" * 96)
    ]
    assert reader.feed(client_frame(TEXT, compress(b"z" * 4096), rsv=4)) == [Message("z" * 4096, None)]


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999])
def test_a_close_with_a_valid_code(code: int) -> None:
    reader = FrameReader(LIMIT)
    events = reader.feed(client_frame(CLOSE, struct.pack("!H", code) + "fin ✓".encode()) + text("after"))
    assert events == [Close(code, "fin ✓")]
    assert not reader.partial and reader.feed(text("more")) == []


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])
def test_a_close_with_an_invalid_code(code: int) -> None:
    [failure] = FrameReader(LIMIT).feed(client_frame(CLOSE, struct.pack("!H", code)))
    assert isinstance(failure, Failure) and failure.code == 1002


def test_a_close_without_a_code_mid_message() -> None:
    reader = FrameReader(LIMIT)
    assert reader.feed(text("half", fin=False) + client_frame(CLOSE)) == [Close(None, "")]
    assert not reader.partial and not held(reader)
    assert reader.feed(client_frame(0, b" more")) == []


def test_a_compressed_message_as_a_browser_sends_it() -> None:
    message = "".join(f"<li>Team {n} scored</li>" for n in range(200))
    compressed = compress(message.encode())
    assert len(compressed) < len(message) / 5
    reader = FrameReader(LIMIT, deflate=True, client_context_takeover=False)
    assert reader.feed(client_frame(TEXT, compressed, rsv=4)) == [Message(message, None)]
    assert reader.feed(client_frame(BINARY, compress(b"\x00\x01" * 99), rsv=4)) == [Message(None, b"\x00\x01" * 99)]
    assert reader.feed(client_frame(TEXT, b"", rsv=4)) == [Message("", None)]
    assert reader.feed(text("not compressed")) == [Message("not compressed", None)]
    assert not held(reader)


def test_a_fragmented_compressed_message_with_a_ping_between() -> None:
    message = b"goal! " * 1000
    compressed = compress(message)
    thirds = [compressed[: len(compressed) // 3], compressed[len(compressed) // 3 : -5], compressed[-5:]]
    reader = FrameReader(LIMIT, deflate=True, client_context_takeover=False)
    assert reader.feed(client_frame(TEXT, thirds[0], fin=False, rsv=4) + client_frame(PING, b"!")) == [Ping(b"!")]
    assert reader.feed(client_frame(0, thirds[1], fin=False)) == []
    assert reader.feed(client_frame(0, thirds[2])) == [Message(message.decode(), None)]


def test_context_takeover_keeps_the_inflate_state_from_the_first_compressed_message_on() -> None:
    compressor = zlib.compressobj(wbits=-15)
    first, second = b"the same long sentence, again and again. " * 20, b"the same long sentence, again and again. "
    reader = FrameReader(LIMIT, deflate=True)
    assert reader.feed(text("plain first")) == [Message("plain first", None)]
    assert not held(reader)  # no inflate state before a compressed message
    assert reader.feed(client_frame(TEXT, compress(first, compressor), rsv=4)) == [Message(first.decode(), None)]
    assert [type(kept).__name__ for kept in held(reader)] == ["Decompress"]
    second_compressed = compress(second, compressor)
    assert len(second_compressed) < 10  # it only refers back to the first message
    assert reader.feed(client_frame(TEXT, second_compressed, rsv=4)) == [Message(second.decode(), None)]
    # Without takeover the reader starts afresh, and the reference back is bad data.
    reader = FrameReader(LIMIT, deflate=True, client_context_takeover=False)
    compressor = zlib.compressobj(wbits=-15)
    assert reader.feed(client_frame(TEXT, compress(first, compressor), rsv=4)) == [Message(first.decode(), None)]
    assert not held(reader)
    [failure] = reader.feed(client_frame(TEXT, compress(second, compressor), rsv=4))
    assert isinstance(failure, Failure) and failure.code == 1007


def test_a_failure_lets_go_of_the_inflate_state() -> None:
    reader = FrameReader(LIMIT, deflate=True)
    assert reader.feed(client_frame(TEXT, compress(b"kept"), rsv=4)) == [Message("kept", None)]
    assert held(reader)
    [failure] = reader.feed(client_frame(TEXT, b"\x80"))
    assert isinstance(failure, Failure) and failure.code == 1007
    assert not held(reader)


def test_a_compressed_message_ending_its_deflate_stream() -> None:
    compressor = zlib.compressobj(wbits=-15)
    finished = compressor.compress(b"final block") + compressor.flush(zlib.Z_FINISH)
    for takeover in (True, False):
        reader = FrameReader(LIMIT, deflate=True, client_context_takeover=takeover)
        assert reader.feed(client_frame(TEXT, finished, rsv=4)) == [Message("final block", None)]
        assert not held(reader)  # an ended stream has no context to take over
        assert reader.feed(client_frame(TEXT, compress(b"next"), rsv=4)) == [Message("next", None)]
    [failure] = FrameReader(LIMIT, deflate=True).feed(client_frame(TEXT, finished + b"junk", rsv=4))
    assert isinstance(failure, Failure) and failure.code == 1007


def test_no_takeover_means_each_message_stands_alone() -> None:
    reader = FrameReader(LIMIT, deflate=True, client_context_takeover=False)
    for n in range(3):
        message = f"message {n} " * 30
        assert reader.feed(client_frame(TEXT, compress(message.encode()), rsv=4)) == [Message(message, None)]
        assert not held(reader)


def test_a_zip_bomb_is_refused_without_being_inflated() -> None:
    bomb = compress(bytes(1 << 20))
    assert len(bomb) < 4096
    for takeover in (True, False):
        reader = FrameReader(4096, deflate=True, client_context_takeover=takeover)
        [failure] = reader.feed(client_frame(BINARY, bomb, rsv=4))
        assert failure == Failure(1009, "message inflates to over 4096 bytes")
        assert not held(reader)


def test_garbage_instead_of_deflate_is_invalid_data() -> None:
    reader = FrameReader(LIMIT, deflate=True)
    [failure] = reader.feed(client_frame(BINARY, b"\xff" * 50, rsv=4))
    assert isinstance(failure, Failure) and failure.code == 1007
    # Well-formed deflate that inflates to something other than UTF-8 fails as text does.
    [failure] = FrameReader(LIMIT, deflate=True).feed(client_frame(TEXT, compress(b"\xc3\x28"), rsv=4))
    assert isinstance(failure, Failure) and failure.code == 1007


def test_what_a_wsproto_client_sends() -> None:
    client = Connection(ConnectionType.CLIENT)
    reader = FrameReader(LIMIT)
    data = client.send(TextMessage("Real Madrid 3–3 Barcelona")) + client.send(BytesMessage(b"\x00\xff" * 40_000))
    data += client.send(WsprotoPing(b"hi")) + client.send(WsprotoPong(b"ho"))
    assert reader.feed(data) == [
        Message("Real Madrid 3–3 Barcelona", None),
        Message(None, b"\x00\xff" * 40_000),
        Ping(b"hi"),
        Pong(b"ho"),
    ]
    assert reader.feed(client.send(CloseConnection(1000, "done"))) == [Close(1000, "done")]


@pytest.mark.parametrize("takeover", [True, False])
def test_what_a_wsproto_client_sends_compressed(takeover: bool) -> None:
    extension = PerMessageDeflate()
    agreed = "permessage-deflate; server_no_context_takeover" + ("" if takeover else "; client_no_context_takeover")
    extension.finalize(agreed)
    client = Connection(ConnectionType.CLIENT, extensions=[extension])
    reader = FrameReader(LIMIT, deflate=True, client_context_takeover=takeover)
    for n in range(3):
        message = f"score update {n}: " + "Liverpool 1–0 Everton; " * 50
        data = client.send(TextMessage(message))
        assert data[0] & 0x40 and len(data) < len(message) / 4
        assert reader.feed(data) == [Message(message, None)]


def test_server_close_and_pong_frames_as_a_client_reads_them() -> None:
    assert close_frame(1000) == b"\x88\x02\x03\xe8"
    assert pong_frame(b"") == b"\x8a\x00"
    client = Connection(ConnectionType.CLIENT)
    client.receive_data(pong_frame(b"abc") + close_frame(1009, "too big ✗"))
    events = list(client.events())
    assert events == [WsprotoPong(b"abc"), CloseConnection(1009, "too big ✗")]
    long = close_frame(1002, "é" * 100)  # 200 bytes: cut to fit, between characters
    assert len(long) == 2 + 2 + 122 and long[4:].decode() == "é" * 61
    with pytest.raises(ValueError):
        pong_frame(b"x" * 126)

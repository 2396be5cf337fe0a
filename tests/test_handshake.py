"""Which requests the app serves as WebSocket handshakes itself, and the answers it writes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from livescores.handshake import accept_key, http_response, switching_protocols, websocket_request

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example


def head(*lines: str, request_line: str = "GET /ws?day=2026-12-05 HTTP/1.1") -> bytes:
    basic = [
        "Host: example.org",
        "Upgrade: websocket",
        "Connection: keep-alive, Upgrade",
        "Sec-WebSocket-Version: 13",
        f"Sec-WebSocket-Key: {KEY.decode()}",
    ]
    return ("\r\n".join([request_line, *basic, *lines]) + "\r\n\r\n").encode("latin-1")


def test_a_browsers_handshake_is_served_with_its_query_headers_and_offers() -> None:
    request = websocket_request(
        head(
            "Origin: http://example.org",
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
            "Sec-WebSocket-Extensions: x-webkit-deflate-frame",
            "Sec-WebSocket-Protocol: chat, superchat",
            "Cookie: lang=es",
        ),
        "/ws",
    )
    assert request is not None
    assert (request.path, request.raw_path, request.query_string) == ("/ws", b"/ws", b"day=2026-12-05")
    assert request.key == KEY
    assert request.extensions == ["permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame"]
    assert request.subprotocols == ["chat", "superchat"]
    assert (b"origin", b"http://example.org") in request.headers and (b"cookie", b"lang=es") in request.headers


def test_the_path_is_matched_decoded_and_under_the_root_path() -> None:
    assert websocket_request(head(request_line="GET /%77s HTTP/1.1"), "/ws") is not None
    assert websocket_request(head(request_line="GET /scores/ws HTTP/1.1"), "/scores/ws") is not None
    assert websocket_request(head(), "/scores/ws") is None


@pytest.mark.parametrize(
    "request_bytes",
    [
        head(request_line="GET /other HTTP/1.1"),
        head(request_line="GET /ws/ HTTP/1.1"),
        head(request_line="POST /ws HTTP/1.1"),
        head(request_line="GET /ws HTTP/1.0"),
        head(request_line="GET http://example.org/ws HTTP/1.1"),  # absolute form
        head(request_line="GET /ws  HTTP/1.1"),
        head(request_line="GET /w%ffs HTTP/1.1"),  # not UTF-8 once decoded
        head("Host: second.example.org"),
        head("Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=="),
        head("Sec-WebSocket-Version: 8"),
        head(" folded: line"),
        head("Bad Name: value"),
        head("X-Control: a\x01b"),
        head("Content-Length: 0"),
        head("Transfer-Encoding: chunked"),
        head().replace(b"Upgrade: websocket", b"Upgrade: h2c"),
        head().replace(b"Connection: keep-alive, Upgrade", b"Connection: keep-alive"),
        head().replace(KEY, b"c2hvcnQ="),  # not 16 bytes
        head().replace(KEY, b"!!!not-base64!!!!!!!!!!="),
        head().replace(b"Host: example.org\r\n", b""),
        head().replace(b"\r\n", b"\n"),
    ],
)
def test_anything_else_is_left_to_hypercorn(request_bytes: bytes) -> None:
    assert websocket_request(request_bytes, "/ws") is None


def test_the_101_carries_the_accept_key_and_what_was_agreed() -> None:
    assert accept_key(KEY) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455, section 1.3
    expected = base64.b64encode(hashlib.sha1(KEY + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    assert accept_key(KEY) == expected
    response = switching_protocols(KEY, "permessage-deflate; server_no_context_takeover", "chat", ((b"x-a", b"1"),))
    assert response.startswith(b"HTTP/1.1 101 Switching Protocols\r\n") and response.endswith(b"\r\n\r\n")
    lines = response.split(b"\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" in lines
    assert b"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover" in lines
    assert b"Sec-WebSocket-Protocol: chat" in lines and b"x-a: 1" in lines
    assert b"Sec-WebSocket-Extensions" not in switching_protocols(KEY)


def test_a_refusal_is_a_whole_response_that_closes_the_connection() -> None:
    response = http_response(404, [(b"content-type", b"text/plain")], b"404\n")
    header, _, body = response.partition(b"\r\n\r\n")
    assert header.split(b"\r\n") == [
        b"HTTP/1.1 404 Not Found",
        b"content-type: text/plain",
        b"content-length: 4",
        b"connection: close",
    ]
    assert body == b"404\n"
    assert http_response(599).startswith(b"HTTP/1.1 599 \r\n")

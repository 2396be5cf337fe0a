"""The opening handshake of the WebSockets the app serves itself (RFC 6455, section 4).

Only a request this module fully understands is claimed: `GET <root>/ws HTTP/1.1` with plain
header lines, one Host, `Upgrade: websocket`, `Connection: upgrade`, version 13 and a key of
16 bytes. Anything else (another path, a malformed or unusual request, a page) is left to
Hypercorn, whose parser answers it as it answers every other request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from http import HTTPStatus
from typing import NamedTuple
from urllib.parse import unquote

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
HEAD_END = b"\r\n\r\n"
MAX_HEAD = 16 * 1024  # beyond this, Hypercorn's parser answers (431) as for any request
TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Visible ASCII, obs-text, space and tab only: no control characters in a value.
FIELD_VALUE = re.compile(rb"[\x20-\x7e\x80-\xff\t]*")
TARGET = re.compile(rb"/[\x21-\x7e]*")


class WebSocketRequest(NamedTuple):
    """What the app needs of a handshake it serves: the scope's parts and the client's key."""

    path: str
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[bytes, bytes]]
    key: bytes
    extensions: list[str]
    subprotocols: list[str]


def websocket_request(head: bytes, path: str) -> WebSocketRequest | None:
    """The request in `head` (up to and including its blank line), if it is a WebSocket
    handshake for `path` that the app serves itself; None to leave the request to Hypercorn."""
    request_line, *lines = head[: -len(HEAD_END)].split(b"\r\n")
    method, _, rest = request_line.partition(b" ")
    target, _, version = rest.partition(b" ")
    if method != b"GET" or version != b"HTTP/1.1" or not TARGET.fullmatch(target):
        return None
    raw_path, _, query_string = target.partition(b"?")
    try:
        decoded_path = unquote(raw_path.decode("ascii"), errors="strict")
    except UnicodeDecodeError:
        return None
    if decoded_path != path:
        return None
    headers: list[tuple[bytes, bytes]] = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not TOKEN.fullmatch(name):
            return None  # no folded lines, no space before the colon
        value = value.strip(b" \t")
        if not FIELD_VALUE.fullmatch(value):
            return None
        headers.append((name.lower(), value))
    return _websocket(decoded_path, raw_path, query_string, headers)


def _websocket(
    path: str, raw_path: bytes, query_string: bytes, headers: list[tuple[bytes, bytes]]
) -> WebSocketRequest | None:
    hosts, upgrade = 0, b""
    connection: list[bytes] = []
    versions: list[bytes] = []
    keys: list[bytes] = []
    extensions: list[str] = []
    subprotocols: list[str] = []
    for name, value in headers:
        if name == b"host":
            hosts += 1
        elif name == b"upgrade":
            upgrade = value
        elif name == b"connection":
            connection.extend(token.strip().lower() for token in value.split(b","))
        elif name == b"sec-websocket-version":
            versions.append(value)
        elif name == b"sec-websocket-key":
            keys.append(value)
        elif name == b"sec-websocket-extensions":
            extensions.extend(_items(value))
        elif name == b"sec-websocket-protocol":
            subprotocols.extend(_items(value))
        elif name in (b"content-length", b"transfer-encoding"):
            return None  # a handshake has no body
    if hosts != 1 or upgrade.lower() != b"websocket" or b"upgrade" not in connection or versions != [b"13"]:
        return None
    if len(keys) != 1 or not _valid_key(keys[0]):
        return None
    return WebSocketRequest(path, raw_path, query_string, headers, keys[0], extensions, subprotocols)


def _items(value: bytes) -> list[str]:
    return [item.strip() for item in value.decode("latin-1").split(",") if item.strip()]


def _valid_key(key: bytes) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except (binascii.Error, ValueError):
        return False


def accept_key(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID, usedforsecurity=False).digest())


def switching_protocols(
    key: bytes,
    extensions: str | None = None,
    subprotocol: str | None = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> bytes:
    """The 101 that completes a handshake."""
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: " + accept_key(key),
    ]
    if extensions:
        lines.append(b"Sec-WebSocket-Extensions: " + extensions.encode("latin-1"))
    if subprotocol:
        lines.append(b"Sec-WebSocket-Protocol: " + subprotocol.encode("latin-1"))
    lines.extend(name + b": " + value for name, value in headers)
    return b"\r\n".join(lines) + HEAD_END


def http_response(status: int, headers: list[tuple[bytes, bytes]] | None = None, body: bytes = b"") -> bytes:
    """A whole HTTP response refusing a handshake; the connection closes after it."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [f"HTTP/1.1 {status} {phrase}".encode("latin-1")]
    names = set()
    for name, value in headers or ():
        names.add(name.lower())
        lines.append(name + b": " + value)
    if b"content-length" not in names:
        lines.append(b"content-length: " + str(len(body)).encode())
    lines.append(b"connection: close")
    return b"\r\n".join(lines) + HEAD_END + body

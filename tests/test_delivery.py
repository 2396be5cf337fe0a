"""Compression and cache lifetimes, per kind of response, through the app's whole ASGI stack."""

import base64
import gzip
import hashlib
import re

from quart import Quart, url_for

from livescores.delivery import IMMUTABLE, REVALIDATE

from .asgi import asgi_get

GZIP = {"accept-encoding": "gzip, deflate, br"}


async def test_pages_css_javascript_and_json_are_gzipped(app: Quart) -> None:
    page = await asgi_get(app, "/", GZIP)
    assert page.status == 200
    assert page.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["vary"]
    html = gzip.decompress(page.body).decode()
    assert "<title>" in html
    assert page.headers["cache-control"] == REVALIDATE
    for path in re.findall(r'(?:href|src)="(/static/[^"]+\.(?:css|js)[^"]*)"', html):
        asset = await asgi_get(app, path, GZIP)
        assert asset.status == 200, path
        if len(gzip.decompress(asset.body) if asset.headers.get("content-encoding") else asset.body) > 500:
            assert asset.headers["content-encoding"] == "gzip", path
    api = await asgi_get(app, "/api/matches", GZIP)
    assert api.headers["content-encoding"] == "gzip"
    assert gzip.decompress(api.body).startswith(b"{") or gzip.decompress(api.body).startswith(b"[")


async def test_without_accept_encoding_nothing_is_compressed(app: Quart) -> None:
    page = await asgi_get(app, "/")
    assert "content-encoding" not in page.headers
    assert b"<title>" in page.body


async def test_versioned_static_files_are_immutable_for_a_year_others_revalidated(app: Quart) -> None:
    html = (await asgi_get(app, "/")).body.decode()
    async with app.test_request_context("/"):
        html += f'"{url_for("static", filename="style.css")}"'  # inlined in pages, still served
    for name in ("style.css", "live.js", "local-time.js"):
        found = re.search(rf'/static/{re.escape(name)}\?v=([0-9a-f]{{12}})"', html)
        assert found, f"{name} has no content-hashed URL"
        versioned = await asgi_get(app, found.group(0).rstrip('"'))
        assert versioned.headers["cache-control"] == IMMUTABLE == "public, max-age=31536000, immutable"
        plain = await asgi_get(app, f"/static/{name}")
        assert plain.headers["cache-control"] == REVALIDATE
        stale = await asgi_get(app, f"/static/{name}?v=000000000000")
        assert stale.headers["cache-control"] == REVALIDATE
    htmx = await asgi_get(app, "/static/htmx-4.0.1.min.js")
    assert htmx.headers["cache-control"] == IMMUTABLE
    assert '/static/htmx-4.0.1.min.js"' in html  # named after its version: no hash needed


async def test_the_streams_are_never_compressed(app: Quart) -> None:
    for path in ("/sse", "/api/stream"):
        stream = await asgi_get(app, path, GZIP, stream=True)
        assert stream.status == 200, path
        assert stream.headers["content-type"].startswith("text/event-stream"), path
        assert "content-encoding" not in stream.headers, path
        assert b"data:" in stream.body or b"event:" in stream.body, path


async def test_the_stylesheet_is_inline_and_allowed_by_its_hash_alone(app: Quart) -> None:
    page = await asgi_get(app, "/")
    html = page.body.decode()
    assert 'rel="stylesheet"' not in html  # nothing in <head> waits for another request
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1 and ".masthead" in styles[0]
    digest = base64.b64encode(hashlib.sha256(styles[0].encode()).digest()).decode()
    policy = page.headers["content-security-policy"]
    style_src = re.search(r"style-src ([^;]+)", policy)
    assert style_src and style_src.group(1).split() == ["'self'", f"'sha256-{digest}'"]
    assert "unsafe-inline" not in policy

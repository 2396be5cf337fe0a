"""What a shared link shows: the title, the description and the score card of a match.

The card is a 1200x630 PNG (what Open Graph and Twitter's large card expect) drawn with Pillow:
the two teams with their crests, the score and the minute or FT. The same words go into the
page's title and meta tags and into the PNG's text chunks, so what a chat app shows and what
the image says cannot drift. Cards are cached per match version and clock.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo
from quart import Blueprint, Response, abort, request

from .matches import Match, clock_label
from .messages import MATCH_ID
from .pages import Page
from .render import team_colour, team_initials
from .services import services

blueprint = Blueprint("share", __name__)

WIDTH, HEIGHT = 1200, 630
CREST_COLOURS = (  # the twelve crest colours of style.css, .c0 to .c11
    "#ba2c2c", "#a56227", "#886e20", "#457c1d", "#1e803f", "#1e8068",
    "#217b8c", "#2c73ba", "#2c43ba", "#5b2cba", "#a22cba", "#ba2c7f",
)  # fmt: skip
BACKGROUND, INK, MUTED, ACCENT = "#0f1720", "#f4f6f8", "#9aa7b4", "#22c55e"
FONT_FILES = (  # a system font with wide coverage when there is one; Pillow's own otherwise
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
    Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf"),
)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
CARD_CACHE = 512
CARD_MAX_AGE = 60  # seconds a chat app may keep a card before asking again


@dataclass(frozen=True)
class Share:
    """The words of a match as a link preview shows them."""

    title: str  # "Argentina 3–3 France · 118'"  # noqa: RUF003
    description: str
    card_text: tuple[str, str, str, str, str]  # home, away, score, clock, competition
    version: int


def share_of(match: Match, now: datetime | None = None) -> Share:
    label = clock_label(match, now or datetime.now(UTC))
    started = match.status not in ("scheduled", "postponed", "cancelled")
    score = f"{match.home_score}–{match.away_score}" if started else "v"
    headline = f"{match.home} {score} {match.away}"
    title = f"{headline} · {label}" if started and label else headline
    where = " · ".join(part for part in (match.competition, match.round) if part)
    if not started and match.kickoff is not None:
        state = f"Kick-off {match.kickoff.astimezone(UTC):%a %d %b %Y, %H:%M} UTC"
    elif match.status == "full_time":
        state = "Full time"
    else:
        state = f"Live, {label}" if label else "Live"
    description = f"{headline}. {state}." + (f" {where}." if where else "") + " Goals, cards and the live timeline."
    card_clock = label if started else (f"{match.kickoff.astimezone(UTC):%d %b %H:%M} UTC" if match.kickoff else "")
    return Share(title, description, (match.home, match.away, score, card_clock, where), match.version)


def _font(size: int) -> Font:
    for path in FONT_FILES:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size)


def _fitted(
    draw: ImageDraw.ImageDraw, text: str, size: int, width: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest font up to `size` in which `text` fits `width` pixels."""
    while size > 20:
        font = _font(size)
        if draw.textlength(text, font=font) <= width:
            return font
        size -= 4
    return _font(size)


@lru_cache(maxsize=CARD_CACHE)
def card_png(share: Share) -> bytes:
    home, away, score, clock, where = share.card_text
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 12), fill=ACCENT)
    if where:
        draw.text((WIDTH / 2, 70), where, font=_fitted(draw, where, 40, WIDTH - 120), fill=MUTED, anchor="mm")
    for name, centre in ((home, 260), (away, WIDTH - 260)):
        colour = CREST_COLOURS[int(team_colour(name)[1:]) % len(CREST_COLOURS)]
        draw.ellipse((centre - 90, 150, centre + 90, 330), fill=colour)
        draw.text((centre, 240), team_initials(name), font=_font(64), fill="#ffffff", anchor="mm")
        draw.text((centre, 400), name, font=_fitted(draw, name, 52, 440), fill=INK, anchor="mm")
    draw.text((WIDTH / 2, 240), score, font=_font(120 if score != "v" else 80), fill=INK, anchor="mm")
    if clock:
        draw.text((WIDTH / 2, 500), clock, font=_fitted(draw, clock, 64, 700), fill=ACCENT, anchor="mm")
    draw.text((WIDTH / 2, 585), "Live scores", font=_font(30), fill=MUTED, anchor="mm")
    info = PngInfo()
    info.add_text("Title", share.title)
    info.add_text("Teams", f"{home}\n{away}")
    info.add_text("Score", score)
    info.add_text("Clock", clock)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True, pnginfo=info)
    return buffer.getvalue()


@blueprint.get("/matches/<match_id>/card.png")
async def match_card(match_id: str) -> Response:
    if not MATCH_ID.match(match_id):
        abort(404)
    found = await services().scoreboard.window.page_matches(Page("match", match_id))
    if not found:
        abort(404)
    share = share_of(found[0])
    etag = f'"{share.version}-{zlib.crc32(repr(share.card_text).encode()):x}"'
    if request.headers.get("If-None-Match") == etag:
        return Response(b"", status=304, headers={"ETag": etag})
    response = Response(card_png(share), content_type="image/png")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={CARD_MAX_AGE}"
    return response

"""Side-by-side tables of one run, and the checks that make the benchmark fail."""

from __future__ import annotations

from collections import Counter
from typing import Any

LATENCY_ROWS = (
    ("last viewer, median (ms)", "last_viewer_median_ms"),
    ("last viewer, max (ms)", "last_viewer_max_ms"),
    ("typical viewer, median (ms)", "typical_viewer_median_ms"),
    ("connected", "connected"),
    ("connects per second", "connects_per_second"),
    ("RSS per idle socket (KiB)", "rss_per_socket_kib"),
    ("RSS idle (MiB)", "rss_idle_mib"),
    ("RSS at end (MiB)", "rss_end_mib"),
    ("deflate negotiated", "deflate_negotiated"),
    ("first message, inflated (bytes)", "first_message.bytes"),
    ("first message, on the wire (bytes)", "first_message.frame_bytes"),
    ("server CPU busy (cores)", "server_cpu_busy"),
    ("server CPU per goal (ms)", "server_cpu_ms_per_goal"),
    ("clients CPU busy (cores)", "client_cpu_busy"),
    ("lost", "lost"),
    ("superseded by a newer row", "superseded"),
    ("duplicates", "duplicates"),
    ("out of order", "out_of_order"),
    ("GET / while goals are sent: count", "page.count"),
    ("GET /: p50 (ms)", "page.p50_ms"),
    ("GET /: p99 (ms)", "page.p99_ms"),
    ("GET /: max (ms)", "page.max_ms"),
    ("GET /: errors", "page.errors"),
    ("GET /: during a fan-out, count", "page.during_fan_out"),
    ("GET /: during a fan-out, max (ms)", "page.during_fan_out_max_ms"),
    ("GET /: page bytes", "page.body_bytes"),
    ("GET /: prober CPU busy (cores)", "page.prober_cpu_busy"),
    ("GET /: prober start lag, max (ms)", "page.start_lag_max_ms"),
)
WRITE_ROWS = (
    ("goals pushed per second", "pushed_per_second"),
    ("offered per second", "offered_per_second"),
    ("sent", "sent"),
    ("stored", "stored"),
    ("pushed (final scores)", "pushed"),
    ("refusal feedback seen", "refused_feedback"),
    ("seconds to last push", "seconds_to_last_push"),
    ("viewers behind at the end", "viewers_behind"),
    ("server CPU busy (cores)", "server_cpu_busy"),
    ("server CPU per goal (ms)", "server_cpu_ms_per_goal"),
)
RESTART_ROWS = (
    ("back with a snapshot, p50 (s after SIGTERM)", "back_p50_s"),
    ("back with a snapshot, p99 (s)", "back_p99_s"),
    ("back with a snapshot, last (s)", "back_max_s"),
    ("connected before", "connected"),
    ("back", "back"),
    ("lost (never back)", "lost"),
    ("failed handshakes", "failed_handshakes"),
    ("timed-out handshakes", "timed_out_handshakes"),
    ("turned away after the 101", "turned_away"),
    ("connection attempts", "attempts"),
    ("listen-queue overflows", "listen_overflows"),
    ("old process exited (s)", "old_exit_s"),
    ("old process CPU after SIGTERM (s)", "old_cpu_after_sigterm_s"),
    ("replacement: starts until one bound", "replacement_starts"),
    ("replacement: answering (s)", "replacement_answering_s"),
    ("replacement: sockets at the end", "replacement_sockets"),
)
SLOW_ROWS = (
    ("others: last viewer, median (ms)", "last_viewer_median_ms"),
    ("others: last viewer, max (ms)", "last_viewer_max_ms"),
    ("others: typical viewer, median (ms)", "typical_viewer_median_ms"),
    ("others: lost", "lost"),
    ("connected", "connected"),
    ("server CPU busy (cores)", "server_cpu_busy"),
    ("fill: goals", "fill.goals"),
    ("fill: bytes pushed to the witness (a reading twin)", "fill.pushed_bytes"),
    ("fill: seconds", "fill.seconds"),
    ("fill: reached its target", "fill.reached"),
    ("fill: server CPU busy (cores)", "fill.server_cpu_busy"),
    ("after the fill, kernel queues per stalled socket (KiB)", "fill.kernel_bytes"),
    ("after the fill, beyond the kernel per stalled socket (KiB)", "fill.beyond_kernel_bytes"),
    ("256 KiB beyond the kernel (s into the stall)", "passed_limit_s"),
    ("fill done (s into the stall)", "filled_s"),
    ("stalled sockets held at first / last timed goal", "held"),
    ("server let go of a stalled socket (s after the limit)", "dropped_after_limit_s"),
    ("server TCP at the end of the hold (state, KiB queued)", "server_tcp_at_hold_end"),
    ("stalled, on reading again: close code", "close_codes"),
    ("stalled, on reading again: how the connection ended", "ended"),
    ("stalled, on reading again: bytes received (KiB)", "received"),
    ("stalled, on reading again: pings in what it read", "pings"),
    ("RSS before the fill (MiB)", "rss_before_fill_mib"),
    ("RSS after the fill (MiB)", "rss_after_fill_mib"),
    ("RSS peak (MiB)", "rss_peak_mib"),
    ("RSS at the end of the hold (MiB)", "rss_hold_end_mib"),
    ("RSS growth, fill to end of hold, viewers left out (MiB)", "rss_growth_mib"),
    ("RSS after the stalled sockets read again (MiB)", "rss_released_mib"),
)


def _get(result: dict[str, Any], key: str) -> Any:
    value: Any = result
    for part in key.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _ratio(app: Any, node: Any) -> str:
    if isinstance(app, int | float) and isinstance(node, int | float) and node:
        return f"{app / node:.2f}x"
    return ""


def _lines(title: str, rows: tuple[tuple[str, str], ...], app: dict[str, Any], node: dict[str, Any]) -> list[str]:
    lines = [f"| {title} | app | node ws | app/node |", "|---|---:|---:|---:|"]
    for label, key in rows:
        a, n = _get(app, key), _get(node, key)
        lines.append(f"| {label} | {_cell(a)} | {_cell(n)} | {_ratio(a, n)} |")
    return lines


def table(run: dict[str, Any]) -> str:
    tables = [_table(run, run.get("app", {}), run.get("node", {}))]
    if run.get("app-uvloop"):  # the app under `hypercorn -k uvloop`, beside the same Node
        tables.append(_table(run, run["app-uvloop"], run.get("node", {}), " (app: -k uvloop)"))
    return "\n".join(tables)


def _table(run: dict[str, Any], app: dict[str, Any], node: dict[str, Any], suffix: str = "") -> str:
    title = f"{run['mode']}, {run['viewers']:,} viewers{suffix}"
    if run["mode"] == "writes":
        return "\n".join(_lines(title, WRITE_ROWS, app, node)) + "\n"
    if run["mode"] == "restart":
        return "\n".join(_lines(title, RESTART_ROWS, app, node)) + "\n"
    if run["mode"] == "hostile":
        return "\n".join([f"## {title}", *(f"- {key}: {value}" for key, value in app.items())]) + "\n"
    if run["mode"] == "slow":
        return "\n".join(
            line for name in ("app", "node") if run.get(name) for line in _slow_lines(title, name, run[name])
        )
    if run.get("workers"):
        title += f" (app: {run['workers']} workers, bus {run['bus']}; node: {node.get('connected', 0):,})"
    extra = [*_calendar_lines(app), *_tail_lines(app, node)]
    return "\n".join([*_lines(title, LATENCY_ROWS, app, node), *extra]) + "\n"


def _tail_lines(app: dict[str, Any], node: dict[str, Any]) -> list[str]:
    """Per goal, the last viewer (app / node); the workers' share; what an idle socket got."""
    lines = []
    if app.get("last_viewer_per_goal_ms") and node.get("last_viewer_per_goal_ms"):
        pairs = zip(app["last_viewer_per_goal_ms"], node["last_viewer_per_goal_ms"], strict=False)
        lines.append("- last viewer per goal, app / node (ms): " + ", ".join(f"{a:.0f}/{n:.0f}" for a, n in pairs))
    if app.get("workers"):
        workers = app["workers"]
        lines.append(
            f"- workers: sockets {workers['sockets_per_worker']}, the scorer on worker {workers['scorer_worker']}, "
            f"bus subscribers {workers.get('bus_subscribers', '-')}"
        )
    if app.get("idle"):
        idle = app["idle"]
        lines.append(
            f"- idle socket, matches in play, over {idle['seconds']} s: {idle['bytes_per_socket_per_minute']} bytes"
            f" and {idle['messages_per_socket_per_minute']} messages a minute"
        )
    if app.get("stalls"):
        lines.append(f"- the app logged {len(app['stalls'])} stall lines (see `stalls` in the JSON)")
    return lines


def _calendar_lines(app: dict[str, Any]) -> list[str]:
    """With `--matches`: the sizes, and which sockets a goal reached."""
    calendar = app.get("calendar")
    if not calendar:
        return []
    reach = calendar["reach"]
    return [
        f"  calendar: {calendar['stored']:,} matches stored, GET / {calendar['page_bytes'] / 1024:.1f} KiB, "
        f"first message {calendar['first_message']['bytes'] / 1024:.1f} KiB, RSS before viewers "
        f"{app.get('rss_before_mib')} MiB",
        f"  a goal: {reach['goal_frames_per_goal_showing']:g} frames to the {reach['sockets_showing']} sockets "
        f"showing its match, {reach['goal_frames_not_showing']} to the {reach['sockets_not_showing']} others",
    ]


def _counted(values: list[Any]) -> str:
    """`[1013, 1013, None]` as `1013 x2, - x1`."""
    return ", ".join(f"{_cell(value)} x{count}" for value, count in Counter(values).items()) if values else "-"


def _slow_cell(part: dict[str, Any], key: str) -> str:
    if key == "held":
        return f"{_cell(part.get('held_at_first_goal'))} / {_cell(part.get('held_at_last_goal'))}"
    if key == "close_codes":
        codes = [s["close_code"] for s in part.get("stalled", [])]
        return _counted(["none" if code is None else str(code) for code in codes])
    if key == "ended":
        ends = [s["connection_ended"] for s in part.get("stalled", [])]
        return _counted(["open" if end is None else end.split(":")[0] for end in ends])
    if key == "pings":
        return _counted([len(s.get("pings_at_bytes", [])) for s in part.get("stalled", [])])
    if key == "received":
        return _span([s["bytes_received"] // 1024 for s in part.get("stalled", [])])
    if key == "server_tcp_at_hold_end":
        sockets = part.get(key, [])
        if not sockets:
            return "-"
        return f"{_counted([state for state, _ in sockets])}; {_span([queued // 1024 for _, queued in sockets])}"
    value = _get(part, key)
    if isinstance(value, list):
        return _span([v // 1024 for v in value] if key.endswith("_bytes") else value)
    return _cell(value)


def _span(values: list[float | None]) -> str:
    """Per stalled socket: `low to high (how many)`, and how many have no value."""
    known = [v for v in values if v is not None]
    if not known:
        return f"- ({len(values)})" if values else "-"
    low, high = min(known), max(known)
    text = _cell(low) if low == high else f"{_cell(low)} to {_cell(high)}"
    missing = f", {len(values) - len(known)} none" if len(known) < len(values) else ""
    return f"{text} ({len(known)}{missing})"


def _slow_lines(title: str, name: str, result: dict[str, Any]) -> list[str]:
    # The runs (without stalled viewers, with 1, with 10), not what is listed beside them.
    parts = [(label, part) for label, part in result.items() if isinstance(part, dict)]
    lines = [
        f"| {title}, {name} | " + " | ".join(label.replace("_", " ") for label, _ in parts) + " |",
        "|---|" + "---:|" * len(parts),
    ]
    for label, key in SLOW_ROWS:
        lines.append(f"| {label} | " + " | ".join(_slow_cell(part, key) for _, part in parts) + " |")
    plains = [
        p["last_viewer_median_ms"]
        for label, p in parts
        if not p.get("stalled_viewers") and p.get("last_viewer_median_ms")
    ]
    plain = sum(plains) / len(plains) if plains else None
    ratios = ", ".join(
        f"{label.replace('_', ' ')}: {_ratio(part.get('last_viewer_median_ms'), plain) or '-'}"
        for label, part in parts
        if part.get("stalled_viewers")
    )
    lines += [
        "",
        f"{name}: others' last-viewer median against the mean of the runs without stalled viewers: {ratios}",
        "",
    ]
    return lines


def failures(results: dict[str, Any]) -> list[str]:
    """Lost or duplicated messages, viewers that never connected, failed page requests; never a time."""
    found: list[str] = []
    for run in results["runs"]:
        for server in ("app", "app-uvloop", "node"):
            result = run.get(server)
            if not result:
                continue
            if run["mode"] == "hostile":
                if result["witnesses_lost"] or result["scorer_goals_accepted"] != 2:
                    found.append(f"hostile on {server}: witnesses lost or goals refused: {result}")
                continue
            parts = [result] if "connected" in result else [v for v in result.values() if isinstance(v, dict)]
            for part in parts:
                where = f"{run['mode']} {run['viewers']} viewers on {server}"
                for key in ("lost", "duplicates", "out_of_order", "failed", "viewers_behind"):
                    if part.get(key):
                        found.append(f"{where}: {key} = {part[key]}")
                reach = (part.get("calendar") or {}).get("reach")
                missed = reach and reach["goal_frames_per_goal_showing"] < reach["sockets_showing"]
                if reach and (reach["goal_frames_not_showing"] or missed):
                    found.append(f"{where}: a goal reached a page that does not show it, or missed one: {reach}")
                page = part.get("page")
                if page and (page["errors"] or not page["ok"]):
                    found.append(
                        f"{where}: GET / failed {page['errors']} of {page['count']} times: {page['error_kinds']}"
                    )
    return found

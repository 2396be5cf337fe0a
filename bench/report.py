"""Side-by-side tables of one run, and the checks that make the benchmark fail."""

from __future__ import annotations

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
    ("server CPU busy (cores)", "server_cpu_busy"),
    ("clients CPU busy (cores)", "client_cpu_busy"),
    ("lost", "lost"),
    ("superseded by a newer row", "superseded"),
    ("duplicates", "duplicates"),
    ("out of order", "out_of_order"),
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
)
SLOW_ROWS = (
    ("last viewer, median (ms)", "last_viewer_median_ms"),
    ("last viewer, max (ms)", "last_viewer_max_ms"),
    ("RSS at end (MiB)", "rss_end_mib"),
    ("lost", "lost"),
)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
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
        a, n = app.get(key), node.get(key)
        lines.append(f"| {label} | {_cell(a)} | {_cell(n)} | {_ratio(a, n)} |")
    return lines


def table(run: dict[str, Any]) -> str:
    app, node = run.get("app", {}), run.get("node", {})
    title = f"{run['mode']}, {run['viewers']:,} viewers"
    if run["mode"] == "writes":
        return "\n".join(_lines(title, WRITE_ROWS, app, node)) + "\n"
    if run["mode"] == "slow":
        lines: list[str] = []
        for part in ("without_slow_viewer", "with_slow_viewer"):
            lines += _lines(f"{title}, {part.replace('_', ' ')}", SLOW_ROWS, app.get(part, {}), node.get(part, {}))
            lines.append("")
        for name, result in (("app", app), ("node", node)):
            if result:
                before = result["without_slow_viewer"].get("last_viewer_median_ms")
                after = result["with_slow_viewer"].get("last_viewer_median_ms")
                slow = result["with_slow_viewer"].get("slow_viewer")
                lines.append(f"{name}: others' median with/without a slow viewer {_ratio(after, before)}; slow: {slow}")
        return "\n".join(lines) + "\n"
    return "\n".join(_lines(title, LATENCY_ROWS, app, node)) + "\n"


def failures(results: dict[str, Any]) -> list[str]:
    """Lost or duplicated messages, and viewers that never connected; never a time."""
    found: list[str] = []
    for run in results["runs"]:
        for server in ("app", "node"):
            result = run.get(server)
            if not result:
                continue
            parts = [result] if "connected" in result else list(result.values())
            for part in parts:
                where = f"{run['mode']} {run['viewers']} viewers on {server}"
                for key in ("lost", "duplicates", "out_of_order", "failed", "viewers_behind"):
                    if part.get(key):
                        found.append(f"{where}: {key} = {part[key]}")
    return found

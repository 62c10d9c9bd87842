"""The printed lines of `bench.scale`."""
from __future__ import annotations

import datetime as dt
import os
import platform


def header(args, sizes: dict, app) -> str:
    from voortgang.extensions import db

    with app.app_context():
        dialect = db.engine.dialect.name
        version = db.engine.dialect.server_version_info
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        f"Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"Machine: {os.cpu_count()} CPUs, {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"load average at start {load}",
        f"Database: {dialect} {'.'.join(map(str, version or ()))}",
        "Rows: " + ", ".join(f"{name} {count:,}" for name, count in sizes.items()),
        f"Requests per page: {args.requests} (the Flask test client in this process; p50/p95 of the whole request, "
        "CPU: the median CPU time of this process per request, less sensitive to a busy machine)",
        "",
        f"| {'role':<13} | {'page':<44} | {'p50 ms':>8} | {'p95 ms':>8} | {'CPU ms':>6} | {'SQL':>4} | {'bytes':>10} |",
        f"| {'-' * 13} | {'-' * 44} | {'-' * 7}: | {'-' * 7}: | {'-' * 5}: | {'-' * 3}: | {'-' * 9}: |",
    ]
    return "\n".join(lines)


def row_line(role: str, result: dict) -> str:
    if result.get("status") != 200:
        return f"| {role:<13} | {result['path']:<44} | status {result.get('status')} |"
    line = (f"| {role:<13} | {result['path']:<44} | {result['p50']:>8.1f} | {result['p95']:>8.1f} | "
            f"{result['cpu']:>6.1f} | {result['statements']:>4} | {result['bytes']:>10,} |")
    if "rows" in result:
        line += (f" {result['rows']:,} rows in {result['chunks']:,} chunks; process grew {result['rss_growth_mb']:.1f} MB"
                 f" (peak RSS), Python allocations peaked at {result['traced_peak_mb']:.1f} MB")
    return line

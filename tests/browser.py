"""Headless browser tests: Debian's chromium driven by Playwright, and a loopback web server.

Playwright's own browser builds are never downloaded (no ``playwright install``): the tests use
the distribution's ``/usr/bin/chromium``, installed with apt when it is missing (the test machines
run as root; elsewhere the fixture fails with the command to run). The ``chromium`` and
``browser`` fixtures in ``conftest.py`` use these helpers; :data:`LAYOUT_CHECK` is the script the
site's phone and screen-reader checks run in a page.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A page's layout as a phone or a screen reader meets it: the document's width against the
# viewport's; per plotly figure its role, accessible name, the text of the element its
# aria-describedby names, and per axis with set ticks how many tick labels were wanted, drawn,
# and how many pairs of them overlap (as drawn, rotated: crowded labels are angled).
LAYOUT_CHECK = r"""
() => {
  // Each tick label as the four corners of its box, rotated as drawn (text boxes rotate with
  // their labels: plotly angles crowded labels, so axis-aligned boxes would overlap falsely).
  const corners = text => {
    const box = text.getBBox(), matrix = text.getCTM();
    if (!box.width || !matrix) return null;
    // the line box less its leading: the glyphs fill about the middle 80 % of its height
    const top = box.y + 0.1 * box.height, bottom = box.y + 0.9 * box.height;
    const right = box.x + box.width;
    return [[box.x, top], [right, top], [right, bottom], [box.x, bottom]].map(
      ([x, y]) => [matrix.a * x + matrix.c * y + matrix.e, matrix.b * x + matrix.d * y + matrix.f]);
  };
  const separated = (p, q) => [p, q].some(shape => shape.some((a, i) => {
    const b = shape[(i + 1) % shape.length], normal = [a[1] - b[1], b[0] - a[0]];
    const project = s => s.map(([x, y]) => x * normal[0] + y * normal[1]);
    const [pp, qq] = [project(p), project(q)];
    return Math.max(...pp) <= Math.min(...qq) + 0.5 || Math.max(...qq) <= Math.min(...pp) + 0.5;
  }));
  const figures = [...document.querySelectorAll('.plotly-graph-div')].map(div => {
    const described = document.getElementById(div.getAttribute('aria-describedby') || '');
    const axes = [];
    for (const [name, axis] of Object.entries(div.layout || {})) {
      const match = /^([xy])axis(\d*)$/.exec(name);
      if (!match || !axis || !axis.tickvals) continue;
      const labels = [...div.querySelectorAll(`g.${match[1]}${match[2]}tick text`)]
        .map(corners).filter(Boolean);
      let overlaps = 0;
      for (let i = 0; i < labels.length; i++)
        for (let j = i + 1; j < labels.length; j++)
          if (!separated(labels[i], labels[j])) overlaps++;
      axes.push({axis: name, wanted: axis.tickvals.length, drawn: labels.length, overlaps});
    }
    return {
      id: div.id, role: div.getAttribute('role'), name: (div.getAttribute('aria-label') || '').trim(),
      description: described ? described.textContent.trim() : null, axes,
    };
  });
  return {view: document.documentElement.clientWidth,
          scroll: document.documentElement.scrollWidth, figures};
}
"""


def ensure_chromium() -> Path:
    """``/usr/bin/chromium``, installed from Debian's packages when missing."""
    if CHROMIUM.is_file():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(
            f"{CHROMIUM} is missing: install Debian's chromium "
            "(sudo apt-get update && sudo apt-get install -y chromium)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "chromium"],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    if not CHROMIUM.is_file():
        raise RuntimeError(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# A URL that leaves this machine (not loopback; data:, blob: and about: never match), as a
# pattern Playwright matches in its driver: a route on it leaves every local request alone,
# where a handler on "**/*" holds each request until the test next calls Playwright (its sync
# API runs handlers only then), stalling a page while the test waits on something else.
LEAVING_THE_MACHINE = re.compile(
    r"^(?!(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])[:/])[a-z][a-z0-9+.-]*://"
)


def block_remote(context: BrowserContext) -> list[str]:
    """Abort every request of ``context`` that would leave the machine; returns the list they
    are recorded in, as they happen."""
    blocked: list[str] = []

    def refuse(route: Route) -> None:
        blocked.append(route.request.url)
        route.abort()

    context.route(LEAVING_THE_MACHINE, refuse)
    return blocked

"""Headless Chromium for the page tests: load a page, report console errors and how each image rendered.

The page is copied next to itself with a small script put first in <head> (so it sees every later error): it
records uncaught errors, failed resource loads and console.error calls, and after the load event writes them,
with each image's natural and laid-out size, into a <pre> that ``--dump-dom`` prints. The page under test is
not changed. Chromium runs in its own session with a fresh profile and is killed as a group on timeout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
PROBE = """<script>
window.__errs = [];
window.addEventListener('error', e => {
  __errs.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href))));
}, true);
window.addEventListener('unhandledrejection', e => { __errs.push('rejection: ' + e.reason); });
const __ce = console.error;
console.error = function () {
  __errs.push('console.error: ' + [...arguments].join(' '));
  __ce.apply(console, arguments);
};
window.addEventListener('load', async () => {
  const images = [...document.images].map(i => { const r = i.getBoundingClientRect();
    return {src: i.getAttribute('src'), natural: [i.naturalWidth, i.naturalHeight], shown: [r.width, r.height]}; });
  // Follow every in-page link of the summary tables as a reader would (fragment navigation, which opens a
  // closed <details> around its target), then record whether the target exists and is laid out.
  const links = [];
  for (const a of document.querySelectorAll('#scenario-table a[href^="#"], #verdict-table a[href^="#"]')) {
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    location.hash = '';
    await new Promise(r => setTimeout(r, 0));
    a.click();
    await new Promise(r => setTimeout(r, 20));
    const t = document.getElementById(id);
    links.push({href: a.getAttribute('href'), exists: !!t, shown: !!t && t.getClientRects().length > 0,
                hash: location.hash});
  }
  const targets = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href'))
    .filter(h => !document.getElementById(decodeURIComponent(h.slice(1))));
  const p = document.createElement('pre'); p.id = '__probe';
  p.textContent = JSON.stringify({errors: __errs, images: images, links: links, dangling: targets});
  document.body.appendChild(p);
});
</script>"""
TIMEOUT_S = 120


def chromium() -> str | None:
    """The Chromium binary (Debian's ``chromium``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(args: list[str]) -> str:
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return out


def _base(profile: Path) -> list[str]:
    binary = chromium()
    assert binary is not None
    return [binary, *FLAGS, f"--user-data-dir={profile}"]


def probe(page: Path, profile: Path) -> dict[str, Any]:
    """Load ``page`` (file://) with the probe; return ``{"errors": [...], "images": [...], "links": [...],
    "dangling": [...]}``: each summary-table link followed (its target exists and is shown), and every in-page
    link whose target does not exist."""
    html = page.read_text(encoding="utf-8")
    copy = page.with_name(page.stem + ".probe.html")
    copy.write_text(re.sub(r"<head>", "<head>" + PROBE, html, count=1), encoding="utf-8")
    try:
        dom = _run([*_base(profile), "--virtual-time-budget=10000", "--dump-dom", copy.resolve().as_uri()])
    finally:
        copy.unlink()
    m = re.search(r'<pre id="__probe">(.*?)</pre>', dom, flags=re.S)
    assert m, f"the probe did not report (page did not finish loading?): {dom[-500:]!r}"
    text = m.group(1).replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return json.loads(text)


def screenshot(page: Path, png: Path, profile: Path, size: str = "1200,5000") -> Path:
    """Save a screenshot of ``page`` (the top ``size`` pixels) to ``png``."""
    _run([*_base(profile), f"--window-size={size}", "--hide-scrollbars", f"--screenshot={png}",
          "--virtual-time-budget=10000", page.resolve().as_uri()])
    return png

"""Hostile names render as text (issue 16, item 4), in a real Chromium: a store whose dataset,
class, subject, annotator, file, note, flag, model and run names are markdown/HTML links and
images pointing at a planted server; every page is walked; no link or image from the data
appears and the browser never requests the planted URL. Also: no Deploy button (item 7)."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser.server import chromium_page, require_browser_tools, streamlit_app

pytestmark = pytest.mark.browser
APP_PORT, PLANTED_PORT = 8618, 8628
PLANTED = f"127.0.0.1:{PLANTED_PORT}"
PAGES = ["Overview", "Browse", "Relabel", "Train", "Review", "Upload", "Models", "Live"]
# every element that can fetch or link, with any URL attribute naming the planted server
INJECTED = """(planted) => {
  const hits = [];
  const scan = (doc) => {
    for (const el of doc.querySelectorAll('a,img,image,iframe,video,audio,source,link,script,object,embed,use')) {
      for (const attr of ['href', 'src', 'xlink:href', 'srcset', 'data', 'poster']) {
        const v = el.getAttribute(attr) || '';
        if (v.includes(planted) || v.includes(planted.replace(':', '%3A'))) hits.push(`${el.tagName} ${attr}=${v}`);
      }
    }
  };
  scan(document);
  // plotly turns <a ...> in a label into an SVG link even when it drops the href
  for (const el of document.querySelectorAll('.js-plotly-plot a')) hits.push(`plotly A ${el.textContent}`);
  for (const f of document.querySelectorAll('iframe')) { try { scan(f.contentDocument); } catch (e) {} }
  return hits;
}"""


class Planted(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        Planted.hits.append(self.path)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(autouse=True)
def _browser_tools() -> None:
    require_browser_tools()


@pytest.fixture
def planted() -> Iterator[list[str]]:
    server = ThreadingHTTPServer(("127.0.0.1", PLANTED_PORT), Planted)
    Planted.hits = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Planted.hits
    server.shutdown()
    server.server_close()


@pytest.fixture
def hostile_app(tmp_path) -> Iterator[dict]:
    seed = f"from tests.browser.hostile_store import build\nbuild({'http://' + PLANTED!r})\n"
    with streamlit_app(tmp_path, seed=seed, ports=(APP_PORT,)) as app:
        yield app


def settle(page, seconds: float = 30) -> None:
    """Wait until Streamlit's script run is over and no skeleton is left, then let charts draw."""
    page.wait_for_timeout(500)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = page.locator('[data-testid="stApp"]').get_attribute("data-test-script-state")
        if state == "notRunning" and page.locator('[data-testid="stSkeleton"]').count() == 0:
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(1000)


def literal(page) -> int:
    """How often a hostile link shows as its literal text (md's invisible word joiners dropped)."""
    return page.locator("body").inner_text().replace("\u2060", "").count(f"](http://{PLANTED}")


def test_every_page_shows_hostile_names_as_text(hostile_app, planted):
    tmp = hostile_app["tmp"]
    found: dict[str, list[str]] = {}
    requests: list[str] = []
    shown_as_text = 0
    with chromium_page(tmp, width=1500) as page:
        page.on("request", lambda r: requests.append(r.url) if PLANTED in r.url else None)
        try:
            page.goto(hostile_app["url"], wait_until="domcontentloaded")
            page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=60_000)
            views = 0
            for name in PAGES:
                page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=name, exact=True).click()
                settle(page, 60 if name in ("Live", "Upload", "Models") else 25)
                found[name] = page.evaluate(INJECTED, PLANTED)
                page.screenshot(path=str(tmp / f"{name}.png"), full_page=True)
                shown_as_text += literal(page)
                views += 1
                tabs = page.locator('[data-testid="stMain"] [role="tab"]')
                for i in range(1, tabs.count()):  # every other tab (lazy tabs draw only when open)
                    label = tabs.nth(i).inner_text()
                    tabs.nth(i).click()
                    settle(page)
                    found[f"{name} / {label}"] = page.evaluate(INJECTED, PLANTED)
                    page.screenshot(path=str(tmp / f"{name}-{i}.png"), full_page=True)
                    shown_as_text += literal(page)
                    views += 1
                if tabs.count() > 1:
                    tabs.nth(0).click()
                    settle(page)
                if name == "Browse":  # the sample detail: history, predictions, source, flag
                    page.locator('[class*="st-key-browse-open-"] button').first.click()
                    settle(page)
                    found["Browse detail"] = page.evaluate(INJECTED, PLANTED)
                    shown_as_text += literal(page)
                    views += 1
                    page.keyboard.press("Escape")  # the detail is a dialog over the navigation
                    settle(page)
            assert page.get_by_role("button", name="Deploy").count() == 0  # toolbarMode minimal
            page.screenshot(path=str(tmp / "last.png"), full_page=True)
        except BaseException:
            page.screenshot(path=str(tmp / "failure.png"), full_page=True)
            print(f"\nfailure screenshot: {tmp / 'failure.png'}; server log: {hostile_app['log']}; {found}")
            raise
    time.sleep(0.5)
    injected = sum(len(v) for v in found.values())
    print(f"\nhostile names: {views} page views, {injected} injected elements, {len(requests)} browser "
          f"requests and {len(planted)} hits on the planted server; hostile text shown as text "
          f"{shown_as_text} times")
    assert injected == 0, {k: v[:5] for k, v in found.items() if v}
    assert requests == [] and planted == [], (requests[:5], planted[:5])
    assert shown_as_text >= 8, "the hostile names were not on the pages at all"

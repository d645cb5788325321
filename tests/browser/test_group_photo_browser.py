"""Group photos in a real Chromium (issue 11, item 9): the Upload page annotates all five faces of
multi_face.jpg with the default model and detector, and lists them as rows 1-5."""
from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from tests.browser.server import chromium_page, require_browser_tools, streamlit_app
from tests.browser.test_hostile_names import settle
from tests.conftest import ASSETS

pytestmark = pytest.mark.browser
APP_PORT = 8612


@pytest.fixture(autouse=True)
def _browser_tools() -> None:
    require_browser_tools()


@pytest.fixture
def app_server(tmp_path) -> Iterator[str]:
    """The app on an empty store (nothing seeded: it builds the demo on first start)."""
    with streamlit_app(tmp_path, seed="", ports=(APP_PORT,)) as app:
        yield app["url"]


def accent_pixels(rgb: np.ndarray) -> int:
    """Pixels of the overlay accent (magenta), allowing for JPEG encoding."""
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return int(((r > 170) & (g < 100) & (b > 170)).sum())


def test_upload_annotates_and_lists_all_five_faces(app_server, tmp_path):
    with chromium_page(tmp_path, width=1500) as page:
        try:
            page.goto(app_server, wait_until="domcontentloaded")
            page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=240_000)  # after the demo is built
            page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name="Upload", exact=True).click()
            settle(page, 60)
            page.locator('.st-key-upload_images input[type="file"]').set_input_files(str(ASSETS / "multi_face.jpg"))
            page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
            settle(page, 60)
            grid = page.locator('[data-testid="stDataFrame"] [role="grid"]').first
            rows = grid.get_attribute("aria-rowcount")  # the header row and one per face
            numbers = [page.locator(f'[data-testid="glide-cell-0-{r}"]').first.inner_text() for r in range(5)]
            src = page.locator('[data-testid="stImage"] img').first.get_attribute("src")
        except BaseException:
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            print(f"\nfailure screenshot: {tmp_path / 'failure.png'}")
            raise
    assert rows == "6" and numbers == ["1", "2", "3", "4", "5"], (rows, numbers)
    with urllib.request.urlopen(src if src.startswith("http") else app_server + src, timeout=10) as r:
        image = cv2.imdecode(np.frombuffer(r.read(), np.uint8), cv2.IMREAD_COLOR)
    original = cv2.imread(str(ASSETS / "multi_face.jpg"))
    assert image.shape == original.shape
    assert accent_pixels(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)) > 2000  # boxes and labels drawn

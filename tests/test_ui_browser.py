"""Browser smoke test: headless Debian Chromium (Playwright with ``executable_path``, no browser
download) opens the Gradio demo and the Streamlit app of a real deployment, runs an explain job
from each page, uploads a folder suite to Streamlit (estimate, benchmark, board) and saves
screenshots under the test's temporary folder."""

import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from folder_suite_helpers import build_suite
from playwright.sync_api import Page, expect, sync_playwright
from servers import REPO, Deployment, ServerError, free_port, stop_process, wait_for
from ui_helpers import sample_png

from genlens.demo.streamlit_pages.common import UPLOADED
from genlens.evaluation.suites.archive import pack_suite

pytest_plugins = ["ui_fixtures"]

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JOB_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def streamlit_url(deployment: Deployment) -> Iterator[str]:
    """``genlens ui streamlit`` for ``deployment`` on a free loopback port (a subprocess)."""
    port = free_port()
    log = deployment.folder / "streamlit.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from genlens.demo.cli import main; main()",
            "ui",
            "streamlit",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=deployment.env,
        cwd=REPO,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool:
        if process.poll() is not None:
            raise ServerError(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                return answer.read() == b"ok"
        except OSError:
            return False

    wait_for(healthy, 120, "streamlit to answer /_stcore/health", interval=0.5)
    yield url
    stop_process(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        raise ServerError(f"{CHROMIUM} missing (apt-get install chromium; scripts/dev.sh does)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


def _choose(page: Page, label: str, value: str) -> None:
    """Pick ``value`` in the Gradio dropdown labelled ``label``."""
    box = page.get_by_label(label, exact=True)
    box.click()
    box.fill(value)
    page.get_by_role("option", name=value, exact=True).click()


def test_gradio_explain_in_browser(browser, gradio_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(gradio_url)
    expect(page.get_by_role("button", name="Explain")).to_be_visible(timeout=60_000)
    page.locator("input[type=file]").first.set_input_files(str(sample_png(tmp_path)))
    _choose(page, "method", "grad-cam")
    page.get_by_role("button", name="Explain").click()
    overlay = page.locator("#explain-overlay img").first
    expect(overlay).to_be_visible(timeout=JOB_TIMEOUT_MS)
    expect(page.get_by_text("evidence removed").first).to_be_visible()
    page.screenshot(path=str(tmp_path / "gradio-explain.png"), full_page=True)
    assert overlay.evaluate("image => image.naturalWidth") > 0
    page.close()


def test_streamlit_batch_in_browser(browser, streamlit_url: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(streamlit_url)
    expect(page.get_by_role("heading", name="Submit a batch")).to_be_visible(timeout=60_000)
    page.locator("input[type=file]").nth(1).set_input_files(str(sample_png(tmp_path, "rocket", 96)))
    page.get_by_role("button", name="Submit batch").click()
    expect(page.get_by_text("1 images x 1 methods")).to_be_visible(timeout=60_000)
    page.screenshot(path=str(tmp_path / "streamlit-submitted.png"), full_page=True)
    page.get_by_role("link", name="Monitor batches").click()
    expect(page.get_by_text("succeeded, 1 jobs")).to_be_visible(timeout=JOB_TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "streamlit-monitor.png"), full_page=True)
    page.get_by_role("link", name="Results per image").click()
    result = page.locator("[data-testid=stImage] img").first
    expect(result).to_be_visible(timeout=60_000)
    assert result.evaluate("image => image.naturalWidth") > 0
    page.screenshot(path=str(tmp_path / "streamlit-results.png"), full_page=True)
    page.close()


def _pick(page: Page, widget: str, label: str, option: str) -> None:
    """Open the Streamlit ``widget`` (test id) labelled ``label``, type ``option`` (long lists
    are virtualised) and click it."""
    page.locator(f"[data-testid={widget}]").filter(has_text=label).locator("input").click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def test_streamlit_folder_suite_benchmark_in_browser(
    browser, streamlit_url: str, tmp_path: Path
) -> None:
    expected = build_suite(tmp_path / "suite")
    archive = tmp_path / "my-suite.zip"
    archive.write_bytes(pack_suite(tmp_path / "suite"))
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.goto(streamlit_url)
    expect(page.get_by_role("heading", name="Submit a batch")).to_be_visible(timeout=60_000)
    page.get_by_text(UPLOADED).click()
    uploads = page.locator("input[type=file]")
    expect(uploads).to_have_count(3)
    uploads.nth(2).set_input_files(str(archive))
    expect(page.get_by_text("my-suite.zip")).to_be_visible()
    _pick(page, "stSelectbox", "benchmark model", "fmnist-cnn")
    _pick(page, "stMultiSelect", "methods", "centre")
    page.get_by_role("button", name="Estimate cost").click()
    estimate = f"Estimate: folder:suite: {expected['images']} images"
    expect(page.get_by_text(estimate)).to_be_visible(timeout=JOB_TIMEOUT_MS)
    page.screenshot(path=str(tmp_path / "streamlit-estimate.png"), full_page=True)
    page.get_by_role("button", name="Submit benchmark").click()
    board = page.get_by_text("folder:suite leaderboard")
    expect(board).to_be_visible(timeout=JOB_TIMEOUT_MS)
    centre = page.locator("[data-testid=stTable]").last.locator("tr").filter(has_text="centre")
    expect(centre).to_contain_text(f"{expected['pointing_class_mean']:.3f} [")
    expect(centre).to_contain_text("fmnist-cnn")
    centre.scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "streamlit-folder-board.png"), full_page=True)
    page.close()

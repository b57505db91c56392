"""Fixtures for the dashboard's browser tests: a live `solara run app.py` and headless Chromium.

The tests drive the real Solara app in Debian's Chromium through Playwright's Python API. Solara
loads its front-end from a CDN, which is out of reach here, so the server must find every asset in
its proxy cache: run `bash .ci/solara_assets.sh` (or `.ci/install_browser.sh`) and export
`SOLARA_ASSETS_PROXY_CACHE_DIR` to the directory it filled. Without it, or without
`/usr/bin/chromium`, the browser tests are skipped with the reason.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CACHE_ENV = "SOLARA_ASSETS_PROXY_CACHE_DIR"
SCREENSHOT_ENV = "SAHEL_SCREENSHOT_DIR"
# The app offers the bundled scenarios and the short test scenarios next to this file.
SCENARIO_DIR_ENV = "SAHEL_SCENARIO_DIR"
SCENARIO_DIRS = (REPO_ROOT / "scenarios", Path(__file__).resolve().parent / "scenarios")
# The posterior the compare view offers: a file in a temporary folder, absent until a test writes
# one (`dashboard_posterior`), so no real calibration/posterior.csv is read or touched.
POSTERIOR_ENV = "SAHEL_POSTERIOR"
STARTUP_TIMEOUT_S = 90.0
VIEWPORT = {"width": 1400, "height": 1000}
# Headless Chromium as root on a machine whose only network is loopback: no sandbox (root), no
# GPU, and none of the background traffic (updates, sync, QUIC probes) that would only time out.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
]
BROWSER_FIXTURES = frozenset({"solara_server", "solara_server_log", "browser", "page"})


def pytest_configure(config: pytest.Config) -> None:
    """Register the `browser` marker (also listed in pyproject.toml)."""
    config.addinivalue_line("markers", "browser: tests in a real headless Chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses the server or the browser fixtures with `browser`."""
    for item in items:
        if BROWSER_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Iterator[None]:
    """Keep each phase's report on the item, so `page` can screenshot a failed test."""
    report = yield
    setattr(item, f"_sahel_report_{report.when}", report)
    return report


def _unavailable(reason: str) -> None:
    """Skip, or fail where the browser tests are required (SAHEL_REQUIRE_BROWSER=1, as in CI)."""
    if os.environ.get("SAHEL_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required but cannot run: {reason}")
    pytest.skip(reason)


def _require_browser_env() -> Path:
    """Skip (or fail) unless the asset cache and Chromium are there; return the cache dir."""
    cache = os.environ.get(CACHE_ENV, "").strip()
    if not cache:
        _unavailable(f"{CACHE_ENV} is not set: run `bash .ci/solara_assets.sh` and export it")
    cache_dir = Path(cache)
    if not cache_dir.is_dir() or not any(cache_dir.iterdir()):
        _unavailable(f"{CACHE_ENV}={cache} is missing or empty: run `bash .ci/solara_assets.sh`")
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: run `bash .ci/install_browser.sh`")
    return cache_dir


def _free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, max_chars: int = 6000) -> str:
    """Return the end of a log file, for failure messages."""
    text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
    return text[-max_chars:] or "(no output)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the server's whole process group (SIGTERM, then SIGKILL after 10 s)."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll `url` until it answers HTTP 200; fail with the server's output if it never does."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no answer"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"solara server exited with code {proc.returncode} before answering {url}.\n"
                f"--- server output ---\n{_tail(log)}",
                pytrace=False,
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last_error = repr(exc)
        time.sleep(0.5)
    pytest.fail(
        f"solara server did not answer HTTP 200 at {url} within {STARTUP_TIMEOUT_S:.0f} s "
        f"(last: {last_error}).\n--- server output ---\n{_tail(log)}",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def solara_server_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of the file that captures the solara server's stdout and stderr."""
    return tmp_path_factory.mktemp("solara_server") / "server.log"


@pytest.fixture(scope="session")
def dashboard_posterior(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the served dashboard looks for a posterior (`$SAHEL_POSTERIOR`); not written."""
    return tmp_path_factory.mktemp("posterior") / "posterior.csv"


@pytest.fixture(scope="session")
def solara_server(solara_server_log: Path, dashboard_posterior: Path) -> Iterator[str]:
    """Run `solara run app.py` from the repo root and yield its base URL (with trailing '/').

    The server reads its front-end assets from `SOLARA_ASSETS_PROXY_CACHE_DIR`; a missing asset
    shows in `solara_server_log` as "Could not load URL: 'https://cdn.jsdelivr.net/...'".
    """
    cache_dir = _require_browser_env()
    app = REPO_ROOT / "app.py"
    if not app.exists():
        pytest.fail(f"{app} does not exist", pytrace=False)
    solara = Path(sys.executable).with_name("solara")
    command = [str(solara)] if solara.exists() else [sys.executable, "-m", "solara"]
    port = _free_port()
    # --production: no hot reload. Solara's reloader re-imports every module under the app's
    # folder when a file changes, numpy from the project's .venv included, which fails.
    command += ["run", "app.py", "--host", "127.0.0.1", "--port", str(port), "--no-open",
                "--production"]
    env = {
        **os.environ,
        CACHE_ENV: str(cache_dir.resolve()),
        SCENARIO_DIR_ENV: os.pathsep.join(str(d) for d in SCENARIO_DIRS),
        POSTERIOR_ENV: str(dashboard_posterior),
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "PYTHONUNBUFFERED": "1",
    }
    base_url = f"http://127.0.0.1:{port}/"
    with solara_server_log.open("wb") as log:
        proc = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group, so teardown ends its children too
        )
        try:
            _wait_until_up(base_url, proc, solara_server_log)
            yield base_url
        finally:
            _stop(proc)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright (no `playwright install` needed)."""
    _require_browser_env()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Directory for screenshots: `$SAHEL_SCREENSHOT_DIR` if set, else a pytest temp dir."""
    override = os.environ.get(SCREENSHOT_ENV, "").strip()
    if override:
        path = Path(override)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser: Browser, screenshot_dir: Path, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context and page (1400x1000); a failed test leaves a screenshot."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(30_000)
    new_page = context.new_page()
    try:
        yield new_page
        report = getattr(request.node, "_sahel_report_call", None)
        if report is not None and report.failed:
            name = "".join(c if c.isalnum() or c in "-_." else "_" for c in request.node.name)
            shot = screenshot_dir / f"FAILED-{name}.png"
            try:
                new_page.screenshot(path=str(shot), full_page=True)
                print(f"screenshot of the failed page: {shot}")
            except Exception as exc:  # the page may be gone; the test's own error matters more
                print(f"could not screenshot the failed page: {exc!r}")
    finally:
        context.close()

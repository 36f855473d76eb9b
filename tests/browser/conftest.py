"""Fixtures for the browser tier: the Control UI in a real headless Chromium (Debian's
`chromium` and `chromium-driver`, driven with Selenium), served by the real release
`clawgate gateway` binary in front of the real `mock-upstream` binary, all on loopback.

Every test gets its own gateway (own port, so its own origin and an empty sessionStorage; own
state dir) and its own browser window; the mock is shared and its queued scripts are cleared
between tests. Binaries: $CLAWGATE_BIN and $MOCK_UPSTREAM_BIN (default target/release/...);
`scripts/browser-tests` builds them once and sets both. Screenshots go to
$CLAWGATE_UI_SCREENSHOTS when it is set (`scripts/browser-tests --screenshots` sets it to docs/).
"""

import json
import os
import pathlib
import select
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

REPO = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "browser-gateway-token"
MODEL = "mock-model"
STARTUP_SECS = 30
WAIT_SECS = 15
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


def binary(env_name, name):
    path = os.environ.get(env_name) or str(REPO / "target" / "release" / name)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is not built: run scripts/browser-tests")
    return path


def first_line(proc, what, timeout=STARTUP_SECS):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError(f"{what} printed nothing within {timeout}s")
    line = proc.stdout.readline().decode().strip()
    if not line:
        raise RuntimeError(f"{what} exited early (code {proc.poll()})")
    return line


def http_json(url, method="GET", body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Mock:
    """The shared mock-upstream process and its control API."""

    def __init__(self, workdir):
        self.proc = subprocess.Popen(
            [binary("MOCK_UPSTREAM_BIN", "mock-upstream"), "--port", "0",
             "--model", f"{MODEL}:65536", "--chunks", "6"],
            stdout=subprocess.PIPE,
            stderr=open(workdir / "mock.log", "wb"),
        )
        self.url = first_line(self.proc, "mock-upstream")

    def push(self, script, times=1):
        """Queues a Script (mock-upstream's JSON) for the next `times` generation requests."""
        http_json(f"{self.url}/__mock/script?times={times}", "POST", script)

    def clear(self):
        http_json(f"{self.url}/__mock/script", "DELETE")
        http_json(f"{self.url}/__mock/requests", "DELETE")

    def stats(self):
        return http_json(f"{self.url}/__mock/stats")

    def requests(self):
        return http_json(f"{self.url}/__mock/requests")


def config_text(mock_url, workdir, primary=f"chatup/{MODEL}", fallbacks=(), dead_port=None, extra_root=""):
    providers = (
        f'chatup: {{ baseUrl: "{mock_url}/v1", api: "openai-completions", apiKey: "upstream-key-chatup", '
        f'models: [{{ id: "{MODEL}", contextWindow: 65536, maxTokens: 1024 }}] }},'
    )
    if dead_port:
        providers += (
            f'deadup: {{ baseUrl: "http://127.0.0.1:{dead_port}/v1", api: "openai-completions", '
            f'apiKey: "upstream-key-dead", models: [{{ id: "{MODEL}", contextWindow: 65536, maxTokens: 1024 }}] }},'
        )
    fallback_list = ", ".join(f'"{f}"' for f in fallbacks)
    return f"""{{
  models: {{ mode: "replace", providers: {{ {providers} }} }},
  agents: {{ defaults: {{
    model: {{ primary: "{primary}", fallbacks: [{fallback_list}] }},
    models: {{ "chatup/{MODEL}": {{ alias: "fast" }} }},
    workspace: "{workdir / 'workspace'}",
  }} }},
  gateway: {{ auth: {{ mode: "token", token: "{TOKEN}" }} }},
  {extra_root}
}}"""


def free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    """One `clawgate gateway` process; `restart` keeps its port and state dir."""

    def __init__(self, workdir, config):
        self.workdir = workdir
        self.config = workdir / "clawgate.json"
        self.config.write_text(config)
        (workdir / "workspace").mkdir(exist_ok=True)
        self.port = 0
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ, CLAWGATE_STATE_DIR=str(self.workdir / "state"), RUST_LOG="warn")
        log = open(self.workdir / "gateway.log", "ab")
        self.proc = subprocess.Popen(
            [binary("CLAWGATE_BIN", "clawgate"), "--config", str(self.config),
             "gateway", "--port", str(self.port)],
            stdout=subprocess.PIPE, stderr=log, env=env, cwd=self.workdir,
        )
        try:
            line = first_line(self.proc, "clawgate gateway")
        except RuntimeError:
            stop(self.proc)
            raise RuntimeError((self.workdir / "gateway.log").read_text()[-4000:])
        self.url = line.rsplit(" ", 1)[-1]
        self.port = int(self.url.rsplit(":", 1)[-1])

    def stop(self):
        stop(self.proc)

    def restart(self):
        self.stop()
        self.start()

    def api(self, path, method="GET", body=None):
        return http_json(f"{self.url}{path}", method, body, {"authorization": f"Bearer {TOKEN}"})

    def chat(self, model, text, headers=None):
        """A plain (non-streamed) chat completion, outside the browser."""
        h = {"authorization": f"Bearer {TOKEN}", **(headers or {})}
        return http_json(f"{self.url}/v1/chat/completions", "POST",
                         {"model": model, "messages": [{"role": "user", "content": text}]}, h)


@pytest.fixture(scope="session")
def mock():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="clawgate-browser-mock-"))
    m = Mock(workdir)
    try:
        yield m
    finally:
        stop(m.proc)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(autouse=True)
def fresh_mock(mock):
    mock.clear()
    yield


@pytest.fixture
def workdir():
    path = pathlib.Path(tempfile.mkdtemp(prefix="clawgate-browser-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def make_gateway(mock, workdir):
    """Starts a gateway on this test's workdir: make_gateway(primary=..., fallbacks=[...],
    extra_root='tools: {...},')."""
    started = []

    def make(**kwargs):
        g = Gateway(workdir, config_text(mock.url, workdir, **kwargs))
        started.append(g)
        return g

    yield make
    for g in started:
        g.stop()


@pytest.fixture
def gateway(make_gateway):
    return make_gateway()


def start_chromium():
    """A headless Chromium under chromedriver, on a fresh profile; returns (driver, profile)."""
    path = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    if not path or not driver_path:
        raise RuntimeError("chromium and chromium-driver are not installed: run scripts/browser-tests")
    profile = tempfile.mkdtemp(prefix="clawgate-browser-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = path
    for flag in CHROME_FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options), profile


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the session (each test opens its own origin)."""
    driver, profile = start_chromium()
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Page:
    """The Control UI in the browser, with the waits tests need."""

    def __init__(self, driver, gateway):
        self.driver = driver
        self.gateway = gateway

    def open(self, with_token=True, fragment=""):
        token = f"#token={urllib.parse.quote(TOKEN, safe='')}" if with_token else fragment
        self.driver.get(f"{self.gateway.url}/{token}")
        return self

    def wait(self, condition, timeout=WAIT_SECS, message=""):
        # Views re-render their rows as live data arrives (cooldown timers tick every second),
        # so an element read by a condition may be replaced mid-read: poll again.
        return WebDriverWait(self.driver, timeout, poll_frequency=0.05,
                             ignored_exceptions=(NoSuchElementException,
                                                 StaleElementReferenceException)).until(
            lambda d: condition(), message)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def text(self, css):
        """The text of `css`, read again when a re-render replaced the element mid-read."""
        for _ in range(20):
            try:
                return self.find(css).text
            except StaleElementReferenceException:
                time.sleep(0.05)
        return self.find(css).text

    def find_all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def visible(self, css):
        found = self.find_all(css)
        return bool(found) and found[0].is_displayed()

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait_ready(self):
        self.wait(lambda: self.visible("#view-chat") and self.find_all("#target option"),
                  message="the chat view never showed")

    def choose(self, target):
        self.js("const s = document.getElementById('target'); s.value = arguments[0];"
                "s.dispatchEvent(new Event('change'));", target)

    def send(self, text):
        box = self.find("#prompt")
        box.clear()
        box.send_keys(text)
        self.find("#send").click()

    def answers(self):
        return self.find_all(".msg.assistant")

    def wait_answer_done(self, count=1):
        """Waits until the `count`-th answer got its footer (the stream ended)."""
        self.wait(lambda: len(self.answers()) >= count
                  and self.answers()[count - 1].find_elements(By.CSS_SELECTOR, ".meta *")
                  or (len(self.answers()) >= count and "command" in self.answers()[count - 1].get_attribute("class")),
                  message=f"answer {count} never finished")
        return self.answers()[count - 1]

    def go(self, view):
        self.driver.get(f"{self.gateway.url}/#{view}")
        self.wait(lambda: self.visible(f"#view-{view}"), message=f"{view} never showed")

    def no_horizontal_scroll(self):
        return self.js("return document.documentElement.scrollWidth <= window.innerWidth"
                       " && document.body.scrollWidth <= window.innerWidth")

    def csp_errors(self):
        return [e["message"] for e in self.driver.get_log("browser")
                if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]

    def screenshot(self, name):
        target = os.environ.get("CLAWGATE_UI_SCREENSHOTS")
        if target:
            path = pathlib.Path(target)
            if not path.is_absolute():
                path = REPO / path
            path.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(path / name))


@pytest.fixture
def page(chromium, gateway):
    return fresh_page(chromium, gateway)


def fresh_page(driver, gateway):
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    driver.get("about:blank")
    driver.get_log("browser")  # drop what earlier tests logged
    return Page(driver, gateway)


def phone(driver):
    """A 375 px wide phone viewport."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 375, "height": 812, "deviceScaleFactor": 2, "mobile": True})


def wait_until(condition, timeout=WAIT_SECS, message=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(message or "condition never held")

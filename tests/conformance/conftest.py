"""Fixtures for the SDK conformance tier: the real `clawgate gateway` binary in front of the
real `mock-upstream` binary (both started as subprocesses on free loopback ports), configured
with one provider per upstream dialect, and official `openai` / `anthropic` / `ollama` SDK
clients pointed at the gateway. The live tier (marker `live`) puts the gateway in front of the
llama.cpp server that `scripts/live-up` started instead.

Binaries: $CLAWGATE_BIN and $MOCK_UPSTREAM_BIN (default: target/debug/...). `scripts/conformance`
builds them and sets both.
"""

import json
import os
import pathlib
import select
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import anthropic
import ollama
import openai
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "conformance-gateway-token"
MODEL = "mock-model"
# provider id -> (api, base URL suffix on the mock)
UPSTREAMS = {
    "chatup": ("openai-completions", "/v1"),
    "respup": ("openai-responses", "/v1"),
    "anthup": ("anthropic-messages", ""),
    "ollup": ("ollama", ""),
}
# Providers only the failure tests use: a failure cools its provider down for a minute, and
# the other tests must keep reaching theirs.
FLAKY = {
    "flakychat": ("openai-completions", "/v1"),
    "flakyresp": ("openai-responses", "/v1"),
    "flakyanth": ("anthropic-messages", ""),
}
# Every SDK client of the mock tier asks for the requested model only, so a test "over the
# Responses upstream" can never pass on a fallback's answer.
STRICT = {"x-clawgate-fallbacks": "none"}
STARTUP_SECS = 30


def binary(env_name, name):
    path = os.environ.get(env_name) or str(REPO / "target" / "debug" / name)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"{path} is not built: run scripts/conformance (or cargo build --bins)")
    return path


def first_line(proc, what, timeout=STARTUP_SECS):
    """The first stdout line of `proc`, within `timeout` seconds."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        raise RuntimeError(f"{what} printed nothing within {timeout}s")
    line = proc.stdout.readline().decode().strip()
    if not line:
        raise RuntimeError(f"{what} exited early (code {proc.poll()})")
    return line


def wait_healthy(url, timeout=STARTUP_SECS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.05)
    raise RuntimeError(f"{url}/healthz never answered")


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Stack:
    """A running gateway (and, in the mock tier, the mock behind it)."""

    def __init__(self, gateway_url, mock_url=None, headers=None):
        self.url = gateway_url
        self.mock_url = mock_url
        self.headers = headers or {}

    def openai(self, api_key=TOKEN):
        return openai.OpenAI(
            base_url=self.url + "/v1",
            api_key=api_key,
            max_retries=0,
            timeout=60,
            default_headers=self.headers,
        )

    def anthropic(self, api_key=TOKEN):
        return anthropic.Anthropic(
            base_url=self.url,
            api_key=api_key,
            max_retries=0,
            timeout=60,
            default_headers=self.headers,
        )

    def ollama(self, api_key=TOKEN, asynchronous=False):
        """The `ollama` package's client; it sends the token as Ollama's own `OLLAMA_API_KEY`
        would (`Authorization: Bearer`)."""
        headers = {"authorization": f"Bearer {api_key}", **self.headers}
        client = ollama.AsyncClient if asynchronous else ollama.Client
        return client(host=self.url, headers=headers, timeout=60)

    def push_script(self, script, times=1):
        """Queues a mock-upstream Script for the next `times` generation requests."""
        req = urllib.request.Request(
            f"{self.mock_url}/__mock/script?times={times}",
            data=json.dumps(script).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200

    def clear_scripts(self):
        req = urllib.request.Request(f"{self.mock_url}/__mock/script", method="DELETE")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200

    def mock_requests(self):
        with urllib.request.urlopen(f"{self.mock_url}/__mock/requests", timeout=5) as r:
            return json.loads(r.read())


def provider_block(pid, api, base_url, models):
    rows = ", ".join(
        f'{{ id: "{m}", contextWindow: {ctx}, maxTokens: 512 }}' for m, ctx in models
    )
    return f'"{pid}": {{ baseUrl: "{base_url}", api: "{api}", apiKey: "upstream-{pid}", models: [{rows}] }},'


def start_gateway(config_text, workdir):
    cfg = workdir / "clawgate.json"
    cfg.write_text(config_text)
    env = dict(os.environ, CLAWGATE_STATE_DIR=str(workdir / "state"))
    log = open(workdir / "gateway.log", "wb")
    proc = subprocess.Popen(
        [binary("CLAWGATE_BIN", "clawgate"), "--config", str(cfg), "gateway", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=log,
        env=env,
        cwd=workdir,
    )
    try:
        line = first_line(proc, "clawgate gateway")
    except RuntimeError:
        stop(proc)
        log.close()
        raise RuntimeError((workdir / "gateway.log").read_text()[-4000:])
    url = line.rsplit(" ", 1)[-1]
    wait_healthy(url)
    return proc, url


@pytest.fixture(scope="session")
def stack():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="clawgate-conformance-"))
    mock = subprocess.Popen(
        [binary("MOCK_UPSTREAM_BIN", "mock-upstream"), "--port", "0", "--model", f"{MODEL}:65536"],
        stdout=subprocess.PIPE,
        stderr=open(workdir / "mock.log", "wb"),
    )
    gateway = None
    try:
        mock_url = first_line(mock, "mock-upstream")
        providers = "\n".join(
            provider_block(pid, api, mock_url + suffix, [(MODEL, 65536)])
            for pid, (api, suffix) in {**UPSTREAMS, **FLAKY}.items()
        )
        config = f"""{{
  models: {{ mode: "replace", providers: {{ {providers} }} }},
  agents: {{ defaults: {{
    model: {{ primary: "chatup/{MODEL}", fallbacks: [] }},
    models: {{ "chatup/{MODEL}": {{ alias: "fast" }} }},
    workspace: "{workdir / 'workspace'}",
  }} }},
  gateway: {{ auth: {{ mode: "token", token: "{TOKEN}" }} }},
  // A migrated OpenClaw file: `agents.defaults.models` above is an alias table, no allowlist.
  meta: {{ migrations: {{ modelPolicyAllowlist: true }} }},
}}"""
        gateway, url = start_gateway(config, workdir)
        yield Stack(url, mock_url, STRICT)
    finally:
        if gateway is not None:
            stop(gateway)
        stop(mock)


@pytest.fixture(autouse=True)
def fresh_scripts(request):
    """No queued mock script leaks from one test into the next."""
    if "stack" in request.fixturenames:
        request.getfixturevalue("stack").clear_scripts()
    yield


@pytest.fixture(params=list(UPSTREAMS))
def upstream_model(request):
    """`<provider>/mock-model` for each upstream dialect."""
    return f"{request.param}/{MODEL}"


def live_env():
    live_dir = os.environ.get("CLAWGATE_LIVE_DIR") or os.path.expanduser("~/.cache/clawgate-live")
    path = pathlib.Path(live_dir) / "live.env"
    if not path.is_file():
        raise RuntimeError(f"the live tier needs {path}: run scripts/live-setup and scripts/live-up")
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.removeprefix("export ").split("=", 1)
            values[key.strip()] = value.strip().strip("'\"")
    return values


@pytest.fixture(scope="session")
def live_stack():
    env = live_env()
    llama = env["CLAWGATE_LIVE_LLAMA_URL"]
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="clawgate-conformance-live-"))
    providers = provider_block(
        "llama", "openai-completions", llama, [("gemma", 4096), ("gemma-tools", 4096)]
    )
    config = f"""{{
  models: {{ mode: "replace", providers: {{ {providers} }} }},
  agents: {{ defaults: {{ model: {{ primary: "llama/gemma", fallbacks: [] }},
                          workspace: "{workdir / 'workspace'}" }} }},
  gateway: {{ auth: {{ mode: "token", token: "{TOKEN}" }} }},
}}"""
    gateway, url = start_gateway(config, workdir)
    try:
        yield Stack(url)
    finally:
        stop(gateway)

"""Control UI figures (a benchmark, not a test: nothing is asserted), run by
`scripts/browser-tests --bench` with the browser tier's harness:

* page weight: every file the page loads (index.html, the modules it imports, the stylesheet,
  the icon), raw and gzip-compressed (level 6, what a compressing proxy would typically send;
  the gateway itself serves them uncompressed on loopback);
* first token: from the click on Send to the first answer text in the DOM, in headless
  Chromium, against the instant mock (0 ms latency, no pacing), for a model and for an agent
  target. Measured in the page with performance.now() and a MutationObserver; N runs each after
  warm-up, median and 90th percentile.

Writes bench/control-ui.md (the method and the numbers) and prints it.
"""

import datetime
import gzip
import os
import pathlib
import platform
import re
import shutil
import statistics
import sys
import tempfile
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import conftest  # noqa: E402
from conftest import MODEL, Gateway, Mock, Page, config_text, stop  # noqa: E402

RUNS = int(os.environ.get("CLAWGATE_UI_BENCH_RUNS", "30"))
WARMUP = 5

MEASURE = """
const done = arguments[arguments.length - 1];
const list = document.getElementById('messages');
const before = list.querySelectorAll('.msg.assistant').length;
const prompt = document.getElementById('prompt');
prompt.value = 'measure ' + Math.random();
let start = 0;
const observer = new MutationObserver(() => {
  const answers = list.querySelectorAll('.msg.assistant .answer');
  const answer = answers[before];
  if (answer && answer.textContent.length > 0) {
    observer.disconnect();
    done(performance.now() - start);
  }
});
observer.observe(list, { childList: true, subtree: true, characterData: true });
start = performance.now();
document.getElementById('send').click();
"""


def assets(base):
    """Every file the page loads, found by following its references."""
    seen = {}
    queue = ["/"]
    while queue:
        path = queue.pop()
        if path in seen:
            continue
        with urllib.request.urlopen(base + path, timeout=10) as r:
            body = r.read()
        seen[path] = body
        text = body.decode("utf-8", "replace")
        for ref in re.findall(r'"(/ui/[\w.]+)"', text):
            queue.append(ref)
        for ref in re.findall(r'from "\./([\w.]+)"', text):
            queue.append(f"/ui/{ref}")
    return seen


def first_token_ms(page, target, runs):
    page.choose(target)
    times = []
    for i in range(runs + WARMUP):
        page.driver.set_script_timeout(30)
        ms = page.driver.execute_async_script(MEASURE)
        page.wait(lambda: not page.visible("#stop"), message="the answer never finished")
        if i >= WARMUP:
            times.append(ms)
        if i % 10 == 9:
            page.find("#new-session").click()
    return times


def summary(times):
    ordered = sorted(times)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * len(ordered))) - 1)]
    return statistics.median(ordered), p90, ordered[0]


def main():
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="clawgate-ui-bench-"))
    mock = Mock(workdir)
    gateway = Gateway(workdir, config_text(mock.url, workdir))
    driver = None
    try:
        files = assets(gateway.url)
        raw = sum(len(b) for b in files.values())
        zipped = sum(len(gzip.compress(b, 6)) for b in files.values())
        driver, profile = conftest.start_chromium()
        page = Page(driver, gateway).open()
        page.wait_ready()
        model = summary(first_token_ms(page, f"chatup/{MODEL}", RUNS))
        agent = summary(first_token_ms(page, "clawgate/main", RUNS))
        version = driver.capabilities.get("browserVersion", "?")
    finally:
        if driver is not None:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
        gateway.stop()
        stop(mock.proc)
    load = os.getloadavg()
    lines = [
        "# Control UI: page weight and first-token time",
        "",
        "Measured by `scripts/browser-tests --bench` (tests/browser/bench_control_ui.py): the",
        "release `clawgate gateway` in front of the instant `mock-upstream` (no latency, no pacing),",
        f"headless Chromium {version}, on one machine ({os.cpu_count()} cores, {platform.machine()},",
        f"load average {load[0]:.2f}), {datetime.date.today().isoformat()}. A figure, not a target.",
        "",
        "## Page weight",
        "",
        "| file | bytes | gzip |",
        "|---|---:|---:|",
    ]
    for path, body in sorted(files.items()):
        lines.append(f"| `{path}` | {len(body):,} | {len(gzip.compress(body, 6)):,} |")
    lines += [
        f"| **all {len(files)} files** | **{raw:,}** | **{zipped:,}** |",
        "",
        "## First answer token on the page",
        "",
        f"From the click on Send to the first answer text in the DOM; {RUNS} runs each after {WARMUP} warm-up runs.",
        "",
        "| target | median | p90 | min |",
        "|---|---:|---:|---:|",
        f"| model `chatup/{MODEL}` (routed) | {model[0]:.1f} ms | {model[1]:.1f} ms | {model[2]:.1f} ms |",
        f"| agent `clawgate/main` (a turn) | {agent[0]:.1f} ms | {agent[1]:.1f} ms | {agent[2]:.1f} ms |",
        "",
    ]
    text = "\n".join(lines)
    out = conftest.REPO / "bench" / "control-ui.md"
    out.write_text(text)
    print(text)
    print(f"(written to {out.relative_to(conftest.REPO)})", file=sys.stderr)


if __name__ == "__main__":
    main()

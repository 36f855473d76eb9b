"""The Control UI's chat in a real browser: the token prompt, streamed Markdown answers,
reasoning kept out, tool cards, the fallback notice, stop (the mock sees the disconnect),
sessions surviving a reload and a gateway restart, and model output that never becomes HTML."""

from selenium.webdriver.common.by import By

from conftest import MODEL, TOKEN, fresh_page, free_port, wait_until


def test_token_prompt_refusal_and_the_dashboard_link(page):
    page.open(with_token=False)
    page.wait(lambda: page.visible("#login"), message="no token prompt")
    assert not page.visible("#nav")
    assert not page.visible("#view-chat")

    page.find("#token").send_keys("not-the-token")
    page.find("#login-form button").click()
    page.wait(lambda: "refused" in page.find("#login-error").text, message="no refusal shown")
    assert not page.visible("#view-chat")

    page.find("#token").send_keys(TOKEN)
    page.find("#login-form button").click()
    page.wait_ready()
    assert page.visible("#nav")

    # `clawgate dashboard`'s link: the fragment's token lands in sessionStorage and leaves the URL.
    fresh = fresh_page(page.driver, page.gateway).open(with_token=True)
    fresh.wait_ready()
    assert fresh.js("return location.hash") == ""
    assert TOKEN not in fresh.driver.current_url
    assert fresh.js("return sessionStorage.getItem('clawgate.token')") == TOKEN
    assert fresh.js("return document.cookie") == ""
    assert fresh.csp_errors() == []


def test_a_streamed_answer_renders_markdown_as_it_arrives(page, mock):
    text = "Here is **bold** text and code:\n\n```rust\nfn main() { println!(\"hi\"); }\n```\n\n- one\n- two"
    mock.push({"text": text, "chunks": 12, "chunk_interval_ms": 120})
    page.open().wait_ready()
    page.choose(f"chatup/{MODEL}")
    page.send("show me markdown")
    # Part of the answer is on the page before the stream ends (no footer yet).
    page.wait(lambda: page.answers() and page.answers()[0].find_elements(By.CSS_SELECTOR, ".answer p")
              and not page.answers()[0].find_elements(By.CSS_SELECTOR, ".meta *"),
              message="nothing rendered while streaming")
    answer = page.wait_answer_done()
    assert answer.find_element(By.CSS_SELECTOR, ".answer strong").text == "bold"
    code = answer.find_element(By.CSS_SELECTOR, ".answer pre code")
    assert 'println!("hi")' in code.text
    assert code.get_attribute("class") == "language-rust"
    assert [li.text for li in answer.find_elements(By.CSS_SELECTOR, ".answer li")] == ["one", "two"]
    assert answer.find_element(By.CSS_SELECTOR, ".meta .model").text == f"chatup/{MODEL}"
    assert page.csp_errors() == []


def test_reasoning_is_kept_out_of_the_answer(page, mock):
    page.open().wait_ready()
    # An agent with reasoning display off (the default): the reasoning never reaches the page.
    mock.push({"reasoning": "SECRET-AGENT-THOUGHT", "text": "the agent answer"})
    page.send("think first")
    answer = page.wait_answer_done()
    assert "the agent answer" in answer.text
    assert "SECRET-AGENT-THOUGHT" not in page.js("return document.body.textContent")
    assert not answer.find_elements(By.CSS_SELECTOR, ".thinking")

    # A model: its reasoning arrives separately and sits in a collapsed "thinking" block.
    page.choose(f"chatup/{MODEL}")
    mock.push({"reasoning": "MODEL-THOUGHT", "text": "the model answer"})
    page.send("think again")
    answer = page.wait_answer_done(1)
    assert answer.find_element(By.CSS_SELECTOR, ".answer").text == "the model answer"
    thinking = answer.find_element(By.CSS_SELECTOR, "details.thinking")
    assert thinking.get_attribute("open") is None
    assert "MODEL-THOUGHT" in thinking.get_attribute("textContent")


def test_a_tool_call_shows_as_a_card_with_arguments_and_output(page, gateway, mock):
    (gateway.workdir / "workspace" / "notes.txt").write_text("the notes say 42")
    mock.push({"tool_call": {"name": "read", "arguments": {"path": "notes.txt"}}})
    mock.push({"text": "Your notes say **42**. To print it:\n\n```python\nprint(42)\n```"})
    page.open().wait_ready()
    page.send("what do my notes say?")
    answer = page.wait_answer_done()
    card = answer.find_element(By.CSS_SELECTOR, ".tool-card")
    assert card.find_element(By.CSS_SELECTOR, "summary code").text == "read"
    assert '"path": "notes.txt"' in card.find_element(By.CSS_SELECTOR, ".tool-args").get_attribute("textContent")
    assert "the notes say 42" in card.find_element(By.CSS_SELECTOR, ".tool-output").get_attribute("textContent")
    assert answer.find_element(By.CSS_SELECTOR, ".answer p").text == "Your notes say 42. To print it:"
    assert answer.find_element(By.CSS_SELECTOR, ".answer pre code").text == "print(42)"
    # Finished cards fold; a click opens one again.
    assert card.get_attribute("open") is None
    card.find_element(By.CSS_SELECTOR, "summary").click()
    assert card.get_attribute("open") is not None
    page.screenshot("control-ui-desktop.png")


def test_a_fallback_answer_says_which_model_failed_and_how(chromium, make_gateway, mock):
    dead = free_port()
    gateway = make_gateway(primary=f"deadup/{MODEL}", fallbacks=[f"chatup/{MODEL}"], dead_port=dead)
    page = fresh_page(chromium, gateway).open()
    page.wait_ready()
    page.send("hello through a dead primary")
    answer = page.wait_answer_done()
    notice = answer.find_element(By.CSS_SELECTOR, ".notice.fallback")
    assert f"chatup/{MODEL} answered for deadup/{MODEL} (network)" in notice.text
    attempts = [li.text for li in notice.find_elements(By.CSS_SELECTOR, ".attempts li")]
    assert len(attempts) == 1 and attempts[0].startswith(f"deadup/{MODEL}: ") and "(network)" in attempts[0]
    assert answer.find_element(By.CSS_SELECTOR, ".meta .model").text == f"chatup/{MODEL}"

    # The Requests view shows the same failover.
    page.go("requests")
    page.wait(lambda: page.find_all("#requests-list tbody tr"), message="no requests listed")
    row = page.find("#requests-list tbody tr")
    assert "fallback" in row.text
    assert f"✗ deadup/{MODEL} → ✓ chatup/{MODEL}" in row.text
    page.screenshot("control-ui-requests.png")


def test_stop_aborts_the_turn_and_the_upstream_generation(page, mock):
    before = mock.stats()["streams_abandoned"]
    mock.push({"chunks": 200, "chunk_interval_ms": 100})
    page.open().wait_ready()
    page.send("a very long answer please")
    page.wait(lambda: page.answers() and page.answers()[0].find_element(By.CSS_SELECTOR, ".answer").text,
              message="the answer never started")
    assert page.visible("#stop")
    page.find("#stop").click()
    wait_until(lambda: mock.stats()["streams_abandoned"] > before, message="the mock never saw the disconnect")
    answer = page.wait_answer_done()
    assert "stopped" in answer.get_attribute("class")
    assert answer.find_element(By.CSS_SELECTOR, ".answer").text, "the partial answer is kept"
    assert page.visible("#send")


def test_a_session_survives_a_reload_and_a_gateway_restart(page, gateway, mock):
    page.open().wait_ready()
    page.send("remember the word pelican")
    page.wait_answer_done()
    key = page.find("#session-label").text
    assert key.startswith("agent:main:ui-")

    page.driver.refresh()
    page.wait_ready()
    page.wait(lambda: "remember the word pelican" in page.find("#messages").text, message="lost on reload")
    assert page.find("#session-label").text == key

    gateway.restart()
    page.driver.refresh()
    page.wait_ready()
    page.wait(lambda: "mock answer to: remember the word pelican" in page.find("#messages").text,
              message="lost on restart")
    page.send("what was the word?")
    page.wait_answer_done(2)
    sent = mock.requests()[-1]["body"]["messages"]
    assert any("pelican" in str(m.get("content")) for m in sent), "the turn continued the same session"
    assert page.find("#context-text").text.endswith(f"chatup/{MODEL}")


def test_model_output_never_executes_as_html(page, mock):
    hostile = (
        'look: <img src=x onerror="window.pwned=1"> and <script>window.pwned=2</script> '
        "[click](javascript:window.pwned=3) ![img](http://127.0.0.1:9/track.png) <b>not bold</b>"
    )
    mock.push({"text": hostile})
    page.open().wait_ready()
    page.choose(f"chatup/{MODEL}")
    page.send("be hostile")
    answer = page.wait_answer_done()
    body = answer.find_element(By.CSS_SELECTOR, ".answer")
    text = body.get_attribute("textContent")
    assert '<img src=x onerror="window.pwned=1">' in text
    assert "<script>window.pwned=2</script>" in text
    assert "<b>not bold</b>" in text
    assert body.find_elements(By.CSS_SELECTOR, "img, script, b, iframe") == []
    assert [a.get_attribute("href") for a in body.find_elements(By.CSS_SELECTOR, "a")] == ["http://127.0.0.1:9/track.png"]
    assert page.js("return window.pwned") is None
    # The same text from the transcript (an agent's past answer) after a reload.
    page.choose("clawgate/main")
    mock.push({"text": hostile})
    page.send("again, as an agent")
    page.wait_answer_done()
    page.driver.refresh()
    page.wait_ready()
    page.wait(lambda: "not bold" in page.find("#messages").text, message="transcript not shown")
    assert page.find_all("#messages img, #messages script, #messages b") == []
    assert page.js("return window.pwned") is None

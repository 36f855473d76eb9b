"""The Control UI's other views in a real browser: Models (a cooldown a failed request set,
counting down; the probe), Sessions (list, open), Config (redacted, validated), and a phone-
width viewport without horizontal scrolling."""

from selenium.webdriver.common.by import By

from conftest import MODEL, fresh_page, free_port, phone


def test_the_models_view_shows_a_cooldown_set_by_a_failed_request(chromium, make_gateway):
    dead = free_port()
    gateway = make_gateway(primary=f"deadup/{MODEL}", fallbacks=[f"chatup/{MODEL}"], dead_port=dead)
    page = fresh_page(chromium, gateway).open()
    page.wait_ready()
    page.go("models")
    page.wait(lambda: page.find_all('tr[data-provider="deadup"]'), message="no providers")
    assert page.find('tr[data-provider="deadup"] .health').text == "ok"
    chain = page.find(".chain").text
    assert f"deadup/{MODEL}" in chain and f"chatup/{MODEL}" in chain

    # A request fails on the dead primary (the fallback answers): the view shows the cooldown.
    gateway.chat(f"deadup/{MODEL}", "hi")
    page.wait(lambda: "cooling down" in page.text('tr[data-provider="deadup"] .health'),
              message="the cooldown never showed")
    health = page.text('tr[data-provider="deadup"] .health')
    assert "(network, 1 error)" in health
    first = health
    page.wait(lambda: page.text('tr[data-provider="deadup"] .health') != first,
              message="the time left never changed")
    assert "✗ the primary cannot serve" in page.text("#view-models")

    page.find("#probe").click()
    page.wait(lambda: "ok " in page.find('tr[data-provider="chatup"]').text, message="no probe result")
    assert "unreachable" in page.find('tr[data-provider="deadup"]').text
    headers = [th.text for th in page.find_all("#view-models th")]
    assert "served" in headers and "server context" in headers
    page.screenshot("control-ui-models.png")


def test_the_sessions_view_lists_and_opens_a_session(page, gateway):
    gateway.chat("clawgate/main", "a session from elsewhere", {"x-clawgate-session-key": "agent:main:work"})
    page.open().wait_ready()
    page.go("sessions")
    page.wait(lambda: page.find_all('tr[data-key="agent:main:work"]'), message="session not listed")
    row = page.find('tr[data-key="agent:main:work"]')
    assert f"chatup/{MODEL}" in row.text
    row.find_element(By.XPATH, ".//button[text()='Open']").click()
    page.wait(lambda: page.visible("#view-chat") and "a session from elsewhere" in page.find("#messages").text,
              message="the session did not open in the chat")
    assert page.find("#session-label").text == "agent:main:work"
    assert "compactions" in page.find("#context-text").text


def test_the_config_view_shows_the_running_config_redacted_and_the_validation(page):
    page.open().wait_ready()
    page.go("config")
    page.wait(lambda: "is valid" in page.find("#view-config").text, message="no validation shown")
    config = page.find("pre.config").get_attribute("textContent")
    assert '"chatup"' in config
    assert "upstream-key-chatup" not in config


def test_a_phone_width_has_no_horizontal_scroll(chromium, gateway, mock):
    page = fresh_page(chromium, gateway)
    phone(page.driver)
    page.open().wait_ready()
    assert page.js("return window.innerWidth") == 375
    mock.push({"text": "| model | context |\n|---|---|\n| local | 32k |\n| hosted | 200k |\n\n"
                       "Run it with:\n\n```sh\nclawgate gateway --port 18789\n```"})
    page.send("how do I start it?")
    page.wait_answer_done()
    assert page.no_horizontal_scroll(), "chat"
    page.screenshot("control-ui-phone.png")
    wide = "x" * 300
    mock.push({"text": f"A long line:\n\n```\n{wide}\n```\n\n| a | b |\n|---|---|\n| {wide} | {wide} |\n\nand {wide}"})
    page.send(f"a long question {wide}")
    page.wait_answer_done(2)
    assert page.no_horizontal_scroll(), "chat with long lines"
    for view in ["sessions", "models", "requests", "config"]:
        page.go(view)
        page.wait(lambda: page.find(f"#view-{view}").text.strip() and "loading…" not in page.find(f"#view-{view}").text,
                  message=f"{view} never loaded")
        assert page.no_horizontal_scroll(), view

"""Exec approvals in the Control UI's chat: an agent with `exec` (the coding profile) whose
command is not on the allowlist asks in the chat; the card shows the command as text (model
output, never HTML), Allow once runs it and the tool card shows its output, Deny refuses."""

from selenium.webdriver.common.by import By

from conftest import fresh_page

# Model output with markup in it: the card must show it as text.
COMMAND = "echo '<img src=x onerror=alert(1)>' approved-output"


def coding_gateway(make_gateway):
    return make_gateway(extra_root='tools: { profile: "coding" },')


def ask(page, mock):
    mock.push({"tool_call": {"name": "exec", "arguments": {"command": COMMAND}}})
    mock.push({"text": "the command ran"})
    page.open().wait_ready()
    page.send("run the command")
    page.wait(lambda: page.find_all(".approval button[data-decision='allow-once']"),
              message="no approval card")
    return page.find(".approval")


def test_an_approval_card_allows_the_command_once(chromium, make_gateway, mock):
    page = fresh_page(chromium, coding_gateway(make_gateway))
    card = ask(page, mock)
    assert card.find_element(By.CSS_SELECTOR, ".approval-command").text == COMMAND
    assert not card.find_elements(By.CSS_SELECTOR, "img"), "the command became HTML"
    assert "in the sandbox" in card.find_element(By.CSS_SELECTOR, ".approval-title").text
    # The command's program can be allowed always.
    assert card.find_elements(By.CSS_SELECTOR, "button[data-decision='allow-always']")
    # Nothing ran yet: the tool card waits.
    assert "running" in page.find(".tool-card .tool-output").get_attribute("textContent")

    card.find_element(By.CSS_SELECTOR, "button[data-decision='allow-once']").click()
    answer = page.wait_answer_done()
    output = answer.find_element(By.CSS_SELECTOR, ".tool-card .tool-output").get_attribute("textContent")
    assert "<img src=x onerror=alert(1)> approved-output" in output, output
    assert "failed" not in answer.find_element(By.CSS_SELECTOR, ".tool-card").get_attribute("class")
    assert answer.find_element(By.CSS_SELECTOR, ".approval-status").text == "allowed once"
    assert not answer.find_elements(By.CSS_SELECTOR, ".approval button")
    assert "the command ran" in answer.find_element(By.CSS_SELECTOR, ".answer").text
    assert page.csp_errors() == []


def test_an_approval_card_denies_the_command(chromium, make_gateway, mock):
    page = fresh_page(chromium, coding_gateway(make_gateway))
    card = ask(page, mock)
    card.find_element(By.CSS_SELECTOR, "button[data-decision='deny']").click()
    answer = page.wait_answer_done()
    tool = answer.find_element(By.CSS_SELECTOR, ".tool-card")
    assert "failed" in tool.get_attribute("class")
    assert "the user declined" in tool.find_element(By.CSS_SELECTOR, ".tool-output").get_attribute("textContent")
    assert answer.find_element(By.CSS_SELECTOR, ".approval-status").text == "denied"

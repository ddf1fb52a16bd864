"""In a real browser: invalid input is explained and kept, other roles get a 403 page, the CSP holds."""

from __future__ import annotations

import pytest
from builders import ORGANISER, event_request
from playwright.sync_api import expect

from engine import services
from engine.model import Actor

pytestmark = pytest.mark.browser


def test_bad_input_shows_the_errors_beside_the_fields_and_keeps_the_values(ui_factory):
    organiser = ui_factory()
    organiser.login("olivia")
    page = organiser.goto("/start/event_approval")
    page.get_by_label("Event title").fill("Film night & discussion")
    page.get_by_label("Expected attendance", exact=True).fill("about forty")
    page.get_by_label("Contact email").fill("not-an-email")
    page.get_by_label("Start date", exact=True).fill("2020-01-10")
    page.get_by_label("Start time", exact=True).fill("19:00")
    page.get_by_role("button", name="Add a speaker").click()
    page.get_by_role("group", name="Speaker 1", exact=True).get_by_label("Full name").fill("Kim Lee")
    page.get_by_role("button", name="Submit request").last.click()

    organiser.check("start-form-errors")
    expect(page).to_have_title("Error: Event approval – campusflow")
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("There is a problem")
    expect(summary.get_by_role("link", name="Expected attendance – Not a valid number.")).to_be_visible()
    expect(summary.get_by_role("link", name="Start date and time – Must not be in the past.")).to_be_visible()
    expect(summary.get_by_role("link", name="Speaker 1: Affiliation – This field is required.")).to_be_visible()
    expect(page.get_by_label("Event title")).to_have_value("Film night & discussion")
    expect(page.get_by_label("Expected attendance", exact=True)).to_have_value("about forty")
    expect(page.get_by_label("Expected attendance", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("group", name="Speaker 1", exact=True).get_by_label("Full name")).to_have_value("Kim Lee")
    summary.get_by_role("link", name="Expected attendance – Not a valid number.").click()
    expect(page.get_by_label("Expected attendance", exact=True)).to_be_focused()


def test_a_user_without_the_role_cannot_open_the_task(ui_factory, live_server):
    services.start_instance(live_server.engine, "event_approval", event_request(title="Access check"), ORGANISER)
    reviewers = Actor("evan", frozenset({"events_office"}))
    task = next(t for t in services.list_tasks(live_server.engine, reviewers, "groups"))
    security = ui_factory()
    security.login("sam")
    response = security.page.goto(f"/tasks/{task.id}")
    assert response is not None and response.status == 403
    security.check("task-forbidden")
    expect(security.page.get_by_role("heading", level=1)).to_have_text("You cannot open this page")
    expect(security.page.get_by_text("Access check")).to_have_count(0)


def test_pages_load_under_the_strict_content_security_policy(browser, live_server):
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto("/login")
    page.get_by_label("User name").fill("olivia")
    page.get_by_label("Password").fill("pw-olivia")
    page.get_by_role("button", name="Sign in").click()
    for path in ("/tasks", "/start/event_approval", "/requests"):
        page.goto(path)
        assert page.evaluate("getComputedStyle(document.body).fontFamily").startswith("Arial")
    context.close()
    assert refused == []

"""In a real browser: an organiser requests an event with two speakers, a reviewer decides, the organiser sees it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser
START = date.today() + timedelta(days=45)


def fill_event(page: Page, title: str) -> None:
    """Fill in the event request's own fields (not the speakers)."""
    page.get_by_label("Event title").fill(title)
    page.get_by_label("Description").fill("A debate on urban housing policy with two invited speakers.")
    page.get_by_label("Type of event").select_option("debate")
    page.get_by_role("group", name="Who is organising the event?").get_by_label("A student society").check()
    page.get_by_label("Organiser name").fill("Debating Society, Sam Patel")
    page.get_by_label("Contact email").fill("debating@example.ac.uk")
    page.get_by_label("Start date", exact=True).fill(START.isoformat())
    page.get_by_label("Start time", exact=True).fill("18:00")
    page.get_by_label("End date", exact=True).fill(START.isoformat())
    page.get_by_label("End time", exact=True).fill("20:00")
    page.get_by_label("On campus (University premises)").check()
    page.get_by_label("Venue", exact=True).fill("Main Hall, Students' Union")
    page.get_by_label("University members only (staff and students)").check()
    page.get_by_label("Expected attendance", exact=True).fill("80")
    page.get_by_role("group", name="How sensitive is the topic?").get_by_label("Contested").check()
    page.get_by_role("group", name="Do you expect a protest?").get_by_label("No", exact=True).check()
    page.get_by_label("I have read and will follow").check()


def fill_speaker(page: Page, number: int, name: str, affiliation: str) -> None:
    """Fill speaker `number` (1-based) inside its own fieldset."""
    item = page.get_by_role("group", name=f"Speaker {number}", exact=True)
    item.get_by_label("Full name").fill(name)
    item.get_by_label("Affiliation").fill(affiliation)
    item.get_by_label("Title of the talk").fill(f"{name} on housing")
    item.get_by_label("Synopsis").fill("Why cities should build more homes, and how.")
    item.get_by_label("In person").check()


def work_task(ui: Any, title: str, task_name: str | None, fill: Callable[[Page], None],
              shot: str | None = None) -> None:
    """From the inbox: claim the first task (named `task_name`, if given) of request `title`, fill, complete."""
    inbox = ui.goto("/tasks")
    row = inbox.get_by_role("row").filter(has_text=title).filter(has_text=task_name or "").first
    row.get_by_role("button", name=re.compile("^Claim")).click()
    page = ui.check(shot)
    expect(page.get_by_role("status")).to_contain_text("assigned to you")
    fill(page)
    page.get_by_role("button", name="Complete task").last.click()
    ui.check()
    expect(page.get_by_role("status")).to_contain_text("is complete")


def nothing_found(page: Page) -> None:
    """Due diligence that finds nothing of concern."""
    page.get_by_role("group", name="Link to a proscribed organisation").get_by_label("None found").check()
    page.get_by_role("group", name="Incidents at previous events").get_by_label("None", exact=True).check()
    page.get_by_label("Cancellations elsewhere in the last 3 years").fill("0")


def declaration_signed(page: Page) -> None:
    """The organiser records that the speaker signed the code of conduct."""
    page.get_by_label("The speaker has signed the code of conduct declaration").check()
    page.get_by_label(re.compile("^Date")).fill(date.today().isoformat())


def record_declarations(ui: Any, title: str, count: int) -> None:
    """Open each task of mine from "My requests" and record the speaker's declaration."""
    for number in range(count):
        mine = ui.goto("/requests", "my-requests-declarations" if number == 0 else None)
        card = mine.get_by_role("listitem").filter(has_text=title).first
        card.get_by_role("link", name="Record speaker declaration").first.click()
        page = ui.check("task-declaration" if number == 0 else None)
        declaration_signed(page)
        page.get_by_role("button", name="Complete task").last.click()
        ui.check()
        expect(page.get_by_role("status")).to_contain_text("is complete")


def approve_with_conditions(page: Page) -> None:
    """The decision: approve with two conditions that are not Prevent-related."""
    expect(page.get_by_text("Dr Ana Silva").first).to_be_visible()
    page.get_by_label("Approve with conditions").check()
    for code in ("M01", "M13"):
        page.get_by_role("group", name="Conditions").get_by_label(re.compile(f"^{code} ")).check()
    page.get_by_label("Not Prevent-related (e.g. safety, logistics)").check()
    page.get_by_label("Why did you add or remove conditions?").fill(
        "A debate on a contested topic: an independent chair and an opening statement keep it orderly.")


def test_organiser_request_with_two_speakers_is_decided_with_conditions_and_organiser_sees_outcome(ui_factory):
    title = "Debate: housing the next generation"
    organiser = ui_factory()
    organiser.login("olivia")
    organiser.goto("/start", "catalogue")
    organiser.page.get_by_role("link", name="Event approval").click()
    page = organiser.check("start-form-empty")

    fill_event(page, title)
    page.get_by_role("button", name="Add a speaker").click()
    organiser.check()
    expect(page.get_by_label("Event title")).to_have_value(title)
    fill_speaker(page, 1, "Dr Ana Silva", "University of Leeds")
    page.get_by_role("button", name="Add another speaker").click()
    organiser.check()
    fill_speaker(page, 2, "Tom Reid", "Independent")
    organiser.check("start-form-two-speakers")
    page.get_by_role("button", name="Submit request").last.click()

    organiser.check("instance-submitted")
    expect(page.get_by_role("status")).to_contain_text("Your request has been submitted")
    instance_path = urlsplit(page.url).path

    checker = ui_factory()
    checker.login("sam")
    checker.goto("/tasks", "inbox-due-diligence")
    work_task(checker, title, "Speaker due diligence", nothing_found, "task-due-diligence")
    work_task(checker, title, "Speaker due diligence", nothing_found)

    record_declarations(organiser, title, 2)

    reviewer = ui_factory()
    reviewer.login("evan")
    work_task(reviewer, title, None, approve_with_conditions, "task-decision")  # the one decision for the band

    mine = organiser.goto("/requests", "my-requests-decided")
    card = mine.get_by_role("listitem").filter(has_text=title)
    expect(card).to_contain_text("Approved with conditions")
    expect(card).to_contain_text("M01, M13")
    expect(card).to_contain_text("Not Prevent-related")
    done = organiser.goto(instance_path, "instance-decided")
    expect(done.locator("svg.diagram .el-completed").first).to_be_visible()
    expect(done.locator("svg.diagram .el-untaken").first).to_be_visible()
    expect(done.get_by_role("list").filter(has_text="Task completed")).to_be_visible()

"""Camunda Forms as server-rendered HTML: conversion of posted strings, accessible markup, errors kept in place."""

from __future__ import annotations

import json
from pathlib import Path

import lxml.html
import pytest

from web.form_data import flatten, london_iso, parse_post
from web.form_render import field_id, render_form

FORMS = Path(__file__).resolve().parents[2] / "forms"
EVENT = json.loads((FORMS / "event_request.form").read_text())
REVIEW = json.loads((FORMS / "review_decision.form").read_text())


def test_posted_strings_become_typed_data_with_london_offsets():
    raw = {
        "title": ["Talk"],
        "expected_attendance": ["80"],
        "media_expected": ["on"],
        "start_at__date": ["2030-07-01"],
        "start_at__time": ["18:00"],
        "speakers__count": ["1"],
        "speakers[0].full_name": ["Ana"],
        "speakers[0].on_tour": ["on"],
        "event_type": ["debate"],
    }
    data = parse_post(EVENT["components"], raw)
    assert data["expected_attendance"] == 80
    assert data["media_expected"] is True and data["fundraising"] is False
    assert data["start_at"] == "2030-07-01T18:00:00+01:00"  # British Summer Time
    assert data["speakers"] == [
        {
            "full_name": "Ana",
            "affiliation": "",
            "talk_title": "",
            "synopsis": "",
            "public_links": "",
            "on_tour": True,
            "prior_controversy": False,
        }
    ]
    assert "end_at" not in data and "audience" not in data


def test_winter_date_times_carry_a_zero_offset_and_bad_parts_pass_through_for_the_engine_to_name():
    assert london_iso("2030-01-15", "09:30") == "2030-01-15T09:30:00+00:00"
    assert london_iso("2030-01-15", "") == "2030-01-15T"
    assert london_iso("", "") is None


def test_add_and_remove_buttons_change_the_number_of_speakers_and_keep_the_others():
    raw = {"speakers__count": ["2"], "speakers[0].full_name": ["Ana"], "speakers[1].full_name": ["Tom"]}
    added = parse_post(EVENT["components"], raw, "add:speakers")
    assert [s.get("full_name") for s in added["speakers"]] == ["Ana", "Tom", None]
    removed = parse_post(EVENT["components"], raw, "remove:speakers[0]")
    assert [s["full_name"] for s in removed["speakers"]] == ["Tom"]
    assert flatten(EVENT["components"], removed)["speakers[0].full_name"] == ["Tom"]


def test_unparseable_numbers_are_kept_as_typed_so_the_form_shows_them_again():
    data = parse_post(EVENT["components"], {"expected_attendance": ["lots"]})
    assert data["expected_attendance"] == "lots"
    assert flatten(EVENT["components"], data)["expected_attendance"] == ["lots"]


def test_every_input_has_a_label_and_choices_sit_in_a_fieldset_with_a_legend():
    html = str(render_form(EVENT, flatten(EVENT["components"], {"speakers": [{}]})).html)
    assert '<label class="label" for="f-title">Event title</label>' in html
    assert 'aria-describedby="f-title-hint"' in html
    assert '<legend class="legend">Who is organising the event?</legend>' in html
    assert '<legend class="legend">Start date and time</legend>' in html
    assert 'name="start_at__date" type="date"' in html and 'name="start_at__time" type="time"' in html
    assert '<legend class="legend">Speaker 1</legend>' in html
    assert 'name="speakers[0].full_name"' in html
    assert 'value="remove:speakers[0]">Remove speaker 1</button>' in html
    assert 'value="add:speakers">Add another speaker</button>' in html


def test_errors_appear_beside_their_fields_and_in_a_summary_that_links_to_them():
    errors = {
        "title": ["This field is required."],
        "speakers[0].full_name": ["This field is required."],
        "_schema": ["Something else."],
    }
    rendered = render_form(EVENT, flatten(EVENT["components"], {"speakers": [{}]}), errors)
    html = str(rendered.html)
    assert 'aria-describedby="f-title-hint f-title-error" aria-invalid="true"' in html
    assert '<p class="error-message" id="f-speakers-0-full_name-error">' in html
    anchors = [(e.anchor, e.label) for e in rendered.summary]
    assert anchors[:2] == [("f-title", "Event title"), (field_id("speakers[0].full_name"), "Speaker 1: Full name")]
    assert anchors[-1] == (None, "Form")


def test_text_placeholders_are_filled_from_the_data_and_escaped():
    text = "# Review\n**{{title}}**\n\nStarts {{start_at}}\n\n- {{risk_level}}"
    schema = {"components": [{"type": "text", "text": text}]}
    html = str(
        render_form(
            schema,
            {},
            context={"title": "<b>Tea</b> & talk", "risk_level": "LOW", "start_at": "2030-07-01T17:00:00+00:00"},
        ).html
    )
    assert '<h2 class="form-heading">Review</h2><p><strong>&lt;b&gt;Tea&lt;/b&gt; &amp; talk</strong></p>' in html
    assert "<p>Starts Mon 1 Jul 2030, 18:00</p>" in html
    assert '<ul class="list"><li>Low</li></ul>' in html


def test_a_checklist_keeps_its_ticks_and_a_select_its_choice_when_shown_again():
    raw = flatten(REVIEW["components"], {"conditions": ["M01", "M04"], "rejection_reason_category": "other"})
    html = str(render_form(REVIEW, raw).html)
    assert 'type="checkbox" value="M01" checked' in html and 'type="checkbox" value="M02">' in html
    assert '<option value="other" selected>' in html


@pytest.mark.parametrize("path", sorted(FORMS.glob("*.form")), ids=lambda p: p.stem)
def test_every_form_in_the_repository_renders_with_a_label_for_each_input(path):
    schema = json.loads(path.read_text())
    html = str(render_form(schema, flatten(schema["components"], {})).html)
    document = lxml.html.fromstring(f"<div>{html}</div>")
    labelled = {label.get("for") for label in document.iter("label")}
    inputs = [e for e in document.iter("input", "select", "textarea") if e.get("type") != "hidden"]
    assert all(e.get("id") in labelled for e in inputs), [e.get("name") for e in inputs if e.get("id") not in labelled]
    ids = [e.get("id") for e in document.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "ids must be unique"
    for fieldset in document.iter("fieldset"):
        assert fieldset[0].tag == "legend"

"""engine.forms: loading Camunda Forms JSON and validating submitted data against it."""

import copy
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InvalidTaskDataError, ProcessDefinitionError
from engine.form_loader import load_form
from engine.forms import FormDefinition

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def options(*values: str) -> list[dict]:
    return [{"label": value.title(), "value": value} for value in values]


ABC = options("a", "b", "c")
REQUIRED = ["This field is required."]


def field(kind: str, name: str, **extra: object) -> dict:
    """One form-js component as Camunda Modeler saves it."""
    key_name = "path" if kind in ("group", "dynamiclist") else "key"
    return {"type": kind, "id": f"Field_{name}", key_name: name, "label": name.title(), **extra}


def schema(*components: dict) -> dict:
    return {"type": "default", "id": "test_form", "components": list(components), "schemaVersion": 19}


@pytest.fixture
def build():
    def build_form(*components: dict) -> FormDefinition:
        return load_form(json.dumps(schema(*components), indent=2), "forms/test_form.form")

    return build_form


def errors_of(form: FormDefinition, data: object, **kwargs: object) -> dict[str, list[str]]:
    with pytest.raises(InvalidTaskDataError) as info:
        form.validate(data, now=NOW, **kwargs)
    return info.value.fields


def problems_of(text: str) -> list[str]:
    with pytest.raises(ProcessDefinitionError) as info:
        load_form(text, "forms/bad.form")
    assert all(p.file == "forms/bad.form" for p in info.value.problems)
    return [str(p) for p in info.value.problems]


# --------------------------------------------------------------------------------------- accepted values
@pytest.mark.parametrize(
    ("component", "sent", "cleaned"),
    [
        (field("textfield", "x", validate={"maxLength": 5}), "hello", "hello"),
        (field("textarea", "x", validate={"pattern": "[a-z]+"}), "abc", "abc"),
        (field("textfield", "x", validate={"validationType": "email"}), "a@uni.ac.uk", "a@uni.ac.uk"),
        (field("textfield", "x", validate={"validationType": "phone"}), "+441632960961", "+441632960961"),
        (field("number", "x"), 2.5, 2.5),
        (field("number", "x"), "12", 12),
        (field("number", "x", decimalDigits=0), 12.0, 12),
        (field("number", "x", validate={"min": 1, "max": 10}), 10, 10),
        (field("checkbox", "x"), "on", True),
        (field("checkbox", "x"), "0", False),
        (field("checklist", "x", values=ABC), ["a", "c"], ["a", "c"]),
        (field("checklist", "x", values=ABC), "b", ["b"]),
        (field("taglist", "x", values=ABC), [], []),
        (field("radio", "x", values=ABC), "b", "b"),
        (field("select", "x", valuesKey="choices"), "anything", "anything"),
        (field("datetime", "x", subtype="date"), "2030-01-31", "2030-01-31"),
        (field("datetime", "x", subtype="time"), "10:30+01:00", "10:30:00+01:00"),
        (field("datetime", "x", subtype="datetime"), "2030-01-31T10:30", "2030-01-31T10:30:00+00:00"),
        (field("datetime", "x", subtype="datetime"), "2030-01-31T10:30+01:00", "2030-01-31T10:30:00+01:00"),
    ],
)
def test_valid_values_are_cleaned(build, component, sent, cleaned):
    assert build(component).validate({"x": sent}, now=NOW) == {"x": cleaned}


@pytest.mark.parametrize(
    ("component", "sent", "message"),
    [
        (field("textfield", "x"), 5, "Not a valid string."),
        (field("textfield", "x", validate={"maxLength": 300}), "y" * 301, "Must be at most 300 characters."),
        (field("textfield", "x", validate={"minLength": 3}), "ab", "Must be at least 3 characters."),
        (field("textfield", "x", validate={"pattern": "[a-z]+"}), "abc1", "Must match the pattern [a-z]+."),
        (field("textfield", "x", validate={"validationType": "email"}), "nobody", "Not a valid email"),
        (field("textfield", "x", validate={"validationType": "phone"}), "call me", "Not a valid inter"),
        (field("number", "x"), "twelve", "Not a valid number."),
        (field("number", "x"), True, "Not a valid number."),
        (field("number", "x"), "1_000", "Not a valid number."),
        (field("number", "x", decimalDigits=0), 2.5, "Must be a whole number."),
        (field("number", "x", validate={"min": 1}), 0, "Must be greater than or equal to 1."),
        (field("number", "x", validate={"max": 10}), "11", "Must be less than or equal to 10."),
        (field("checkbox", "x"), "maybe", "Not a valid boolean."),
        (field("checklist", "x", values=ABC), ["a", "z"], "Must be one of: a, b, c."),
        (field("taglist", "x", values=ABC), {"a": 1}, "Not a valid list."),
        (field("radio", "x", values=ABC), "z", "Must be one of: a, b, c."),
        (field("select", "x", valuesExpression="=options"), 3, "Not a valid string."),
        (field("datetime", "x", subtype="date"), "31/01/2030", "Not a valid date (YYYY-MM-DD)."),
        (field("datetime", "x", subtype="time"), "half past ten", "Not a valid time (ISO 8601)."),
        (field("datetime", "x", subtype="datetime"), "2030-01-31", "Not a valid date-time (ISO 8601)."),
    ],
)
def test_invalid_values_are_rejected_with_a_clear_message(build, component, sent, message):
    assert errors_of(build(component), {"x": sent})["x"][0].startswith(message)


@pytest.mark.parametrize(
    ("kind", "empty"),
    [("textfield", None), ("textarea", ""), ("taglist", []), ("checkbox", "0")],
)
def test_required_field_rejects_missing_and_empty_values(build, kind, empty):
    form = build(field(kind, "x", values=ABC, validate={"required": True}))
    assert errors_of(form, {"x": empty}) == errors_of(form, {}) == {"x": REQUIRED}


def test_absent_fields_take_their_default_or_are_left_out_and_checkboxes_default_to_false(build):
    ticked, picked = (
        field("checkbox", "ok", defaultValue=True),
        field("radio", "r", values=ABC, defaultValue="b"),
    )
    form = build(field("textfield", "note"), field("number", "n"), field("checkbox", "off"), ticked, picked)
    assert form.validate({"n": ""}) == {"off": False, "ok": True, "r": "b"}
    assert form.validate({"ok": False, "r": "c"}) == {"off": False, "ok": False, "r": "c"}


def test_partial_defaults_fill_absent_fields_and_never_add_other_keys(build):
    form = build(field("textfield", "title"), field("number", "n"))
    cleaned = form.validate({"n": 1}, partial_defaults={"title": "Kept", "risk_level": "high"})
    assert cleaned == {"title": "Kept", "n": 1}


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"title": "x", "bogus": 1}, {"bogus": ["Unknown field."]}),
        *[(data, {"_schema": ["Must be a JSON object."]}) for data in ([], "text", None)],
    ],
)
def test_unknown_fields_and_data_that_is_not_an_object_are_rejected(build, data, errors):
    assert errors_of(build(field("textfield", "title")), data) == errors


def test_readonly_disabled_and_expression_fields_are_dropped_silently(build):
    form = build(
        field("textfield", "ref", readonly=True),
        field("number", "score", disabled=True),
        field("expression", "total", expression="=1 + 1"),
        field("textfield", "locked", readonly='=status = "closed"'),
        field("textfield", "note"),
    )
    sent = {"ref": "forged", "score": 99, "total": 5, "locked": "x", "note": "hi"}
    assert form.validate(sent) == {"locked": "x", "note": "hi"}
    assert form.validate(sent, partial_defaults={"status": "closed"}) == {"note": "hi"}
    assert form.field_keys() == {"ref", "score", "total", "locked", "note"}


# ------------------------------------------------------------------------------------- lists and groups
NAME = field("textfield", "full_name", validate={"required": True, "maxLength": 10})
SPEAKERS = field("dynamiclist", "speakers", components=[NAME, field("checkbox", "on_tour")])


def test_dynamic_list_items_are_validated_with_indexed_keys(build):
    form = build(SPEAKERS)
    cleaned = form.validate({"speakers": [{"full_name": "Ann"}]})
    assert cleaned == {"speakers": [{"full_name": "Ann", "on_tour": False}]}
    sent = {"speakers": [{"full_name": "Ann"}, {"full_name": ""}, "Bob", {"full_name": "C", "age": 3}]}
    assert errors_of(form, sent) == {
        "speakers[1].full_name": REQUIRED,
        "speakers[2]": ["Not a valid object."],
        "speakers[3].age": ["Unknown field."],
    }
    assert errors_of(form, {"speakers": "Ann"}) == {"speakers": ["Not a valid list."]}
    assert form.validate({"speakers": []}) == {"speakers": []}


def test_group_with_a_path_nests_its_fields_and_a_plain_group_flattens_them(build):
    form = build(
        field("group", "venue", components=[field("textfield", "room", validate={"required": True})]),
        {"type": "group", "id": "Group_plain", "components": [field("textfield", "city")]},
    )
    sent = {"venue": {"room": "B12"}, "city": "Leeds"}
    assert form.validate(sent) == sent
    assert errors_of(form, {"venue": {}}) == {"venue.room": REQUIRED}
    assert errors_of(form, {"venue": "B12"}) == {"venue": ["Not a valid object."]}
    assert form.field_keys() == {"venue", "city"}


# ------------------------------------------------------------------------------------------ conditions
@pytest.mark.parametrize(
    ("hide", "data", "hidden"),
    [
        ("=online", {"online": True}, True),
        ("=not(online)", {"online": False}, True),
        ('=mode != "online"', {"mode": "online"}, False),
        ('=mode = "online"', {"mode": "online"}, True),
        ("=online = true", {"online": True}, True),
        ('=online and mode = "hybrid"', {"online": True, "mode": "hybrid"}, True),
        ('=online or mode = "hybrid"', {"online": False, "mode": "on_campus"}, False),
        ('=not(online or (mode = "hybrid"))', {"online": False, "mode": "on_campus"}, True),
    ],
)
def test_hidden_fields_are_not_required_and_their_values_are_dropped(build, hide, data, hidden):
    form = build(
        field("checkbox", "online"),
        field("radio", "mode", values=options("online", "hybrid", "on_campus")),
        field("textfield", "room", validate={"required": True}, conditional={"hide": hide}),
    )
    if hidden:
        assert "room" not in form.validate({**data, "room": "B12"})
    else:
        assert errors_of(form, data) == {"room": REQUIRED}


def test_a_hidden_plain_group_hides_its_children(build):
    inner = field("textfield", "room", validate={"required": True})
    group = {"type": "group", "id": "G", "components": [inner], "conditional": {"hide": "=online"}}
    form = build(field("checkbox", "online"), group)
    assert form.validate({"online": "on", "room": "B12"}) == {"online": True}


# ------------------------------------------------------------------------------------ custom properties
def event_times(**start_properties: str):
    return (
        field("datetime", "start_at", subtype="datetime", properties=start_properties),
        field("datetime", "end_at", subtype="datetime", properties={"after": "start_at"}),
    )


def test_start_must_not_be_past_and_end_must_be_strictly_after_it(build):
    form = build(*event_times(notPast="true"))
    sent = {"start_at": "2030-06-01T11:59Z", "end_at": "2030-06-01T12:59+01:00"}
    past, same = ["Must not be in the past."], ["Must be after start_at."]
    assert errors_of(form, sent) == {"start_at": past, "end_at": same}
    assert form.validate({"start_at": "2030-06-01T12:00Z", "end_at": "2030-06-01T12:01Z"})


def test_min_items_and_max_items_bound_a_list(build):
    form = build({**SPEAKERS, "properties": {"minItems": "1", "maxItems": "2"}})
    assert errors_of(form, {}) == {"speakers": ["Must have at least 1 item."]}
    three = [{"full_name": n} for n in "abc"]
    assert errors_of(form, {"speakers": three}) == {"speakers": ["Must have at most 2 items."]}


@pytest.mark.parametrize(
    ("kind", "props", "good", "bad", "message"),
    [
        ("textarea", {"maxWords": "3"}, "one two  three ", "one two three four", "Must be at most 3 words."),
        ("checkbox", {"mustBeTrue": "true"}, "on", "false", "Must be checked."),
        ("datetime", {"notPast": "true"}, "2030-06-01", "2030-05-31", "Must not be in the past."),
    ],
)
def test_custom_properties_accept_good_and_reject_bad_values(build, kind, props, good, bad, message):
    form = build(field(kind, "x", subtype="date", properties=props))
    assert form.validate({"x": good}, now=NOW)
    assert errors_of(form, {"x": bad}) == {"x": [message]}


def test_required_when_follows_another_field(build):
    form = build(
        field("radio", "decision", values=options("approved", "rejected")),
        field("textarea", "reasons", properties={"requiredWhen": '=decision = "rejected"', "hint": "shown"}),
    )
    assert form.validate({"decision": "approved"}) == {"decision": "approved"}
    assert errors_of(form, {"decision": "rejected", "reasons": ""}) == {"reasons": REQUIRED}


def test_all_errors_are_reported_together(build):
    title = field("textfield", "title", validate={"required": True})
    form = build(title, field("number", "n"), *event_times())
    sent = {"n": "x", "start_at": "2030-07-02T00:00Z", "end_at": "2030-07-01T00:00Z", "y": 1}
    assert set(errors_of(form, sent)) == {"title", "n", "end_at", "y"}


def test_validation_never_mutates_the_input(build):
    form = build(SPEAKERS, field("checklist", "tags", values=ABC), field("number", "n"))
    sent = {"speakers": [{"full_name": "Ann"}], "tags": "a", "n": "3"}
    before = copy.deepcopy(sent)
    form.validate(sent)
    assert sent == before


# ------------------------------------------------------------------------------------------- load_form
def test_load_form_keeps_id_source_and_schema(build):
    text = json.dumps(schema(field("textfield", "title")))
    form = load_form(text, "forms/test_form.form")
    assert (form.id, form.file_name, form.source) == ("test_form", "forms/test_form.form", text)
    assert form.schema == json.loads(text)
    [title] = form.fields
    assert (title.key, title.type, title.label, title.required) == ("title", "textfield", "Title", False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{\n  "type": "default",\n  "id": oops\n}', "forms/bad.form:3: not valid JSON: Expecting value"),
        (json.dumps({**schema(), "type": "form"}), 'forms/bad.form [test_form]: top-level "type" must be'),
        (json.dumps({**schema(), "id": ""}), 'forms/bad.form: the form needs a non-empty "id"'),
        (json.dumps({**schema(), "components": {}}), 'forms/bad.form [test_form]: "components" must be'),
    ],
)
def test_load_form_rejects_a_bad_file_as_a_whole(text, expected):
    [problem] = problems_of(text)
    assert problem.startswith(expected)


def bad(kind: str, **extra: object) -> dict:
    return field(kind, "bad", **extra)


@pytest.mark.parametrize(
    ("component", "reason"),
    [
        (bad("textfield", key=None), "needs a key"),
        (bad("textfield", key="a.b"), "needs a key"),
        (bad("dynamiclist", path=""), "needs a path"),
        (bad("filepicker"), "unsupported component type 'filepicker'"),
        (bad("radio"), "has no options"),
        (bad("select", values=[{"label": "x"}]), "string or number value"),
        (bad("textfield", conditional={"hide": "=count > 3"}), "outside the supported FEEL subset"),
        (bad("textfield", conditional={"hide": "online"}), "must start with '='"),
        (bad("textfield", readonly="=is defined(x)"), "outside the supported FEEL subset"),
        (bad("textfield", validate={"pattern": "[a-"}), "not a valid regex"),
        (bad("textfield", validate={"maxLength": "ten"}), "validate.maxLength must be a number"),
        (bad("textfield", validate={"validationType": "postcode"}), "unsupported validate.validationType"),
        (bad("datetime", subtype="week"), "unsupported datetime subtype"),
        (bad("textarea", properties={"maxWords": "many"}), "maxWords='many': must be a whole number"),
        (bad("dynamiclist", properties={"minItems": "-1"}), "must be a whole number"),
        (bad("checkbox", properties={"mustBeTrue": "yes"}), 'must be "true" or "false"'),
        (bad("textfield", properties={"notPast": "true"}), "does not apply to a textfield"),
        (bad("textfield", properties={"requiredWhen": "=a > b"}), "outside the supported FEEL subset"),
        (bad("datetime", subtype="datetime", properties={"after": "start"}), "names no other datetime"),
        (bad("group", components={"a": 1}), '"components" must be a list'),
    ],
)
def test_load_form_rejects_a_bad_component_naming_its_id(component, reason):
    [problem] = problems_of(json.dumps(schema(component)))
    assert "[Field_bad]" in problem and reason in problem


def test_load_form_rejects_duplicate_keys_in_one_scope_but_not_across_scopes():
    nested = field("dynamiclist", "items", components=[field("textfield", "title")])
    load_form(json.dumps(schema(field("textfield", "title"), nested)), "forms/ok.form")
    again = {**field("textfield", "title"), "id": "Field_2"}
    plain_group = {"type": "group", "id": "G", "components": [again]}
    [problem] = problems_of(json.dumps(schema(field("textfield", "title"), plain_group)))
    assert "[Field_2]" in problem and "also used by Field_title" in problem


def test_load_form_reports_every_problem_at_once():
    problems = problems_of(json.dumps(schema(field("radio", "a"), field("nope", "b"), field("number", "a"))))
    assert [p.split(": ")[0] for p in problems] == [f"forms/bad.form [Field_{x}]" for x in ("a", "b", "a")]


# --------------------------------------------------------------------------------------------- property
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
ANY_FORM_COMPONENTS = [
    field("textfield", "title", validate={"required": True, "maxLength": 5, "pattern": "[a-z]*"}),
    field("number", "n", decimalDigits=0, validate={"min": 0}),
    field("checkbox", "ok", properties={"mustBeTrue": "true"}),
    field("checklist", "tags", values=ABC, properties={"maxItems": "2"}),
    field("select", "pick", valuesKey="options", conditional={"hide": "=ok"}),
    *event_times(notPast="true"),
    field("datetime", "day", subtype="date"),
    field("datetime", "at", subtype="time"),
    field("group", "venue", components=[field("textfield", "room")]),
    SPEAKERS,
]
ANY_FORM = load_form(json.dumps(schema(*ANY_FORM_COMPONENTS)), "forms/any.form")
KEYS = sorted(ANY_FORM.field_keys() | {"full_name", "room", "bogus"})
KEYED = st.dictionaries(st.sampled_from(KEYS), JSON)


@settings(max_examples=300, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON | st.dictionaries(st.sampled_from(KEYS), JSON | st.lists(KEYED)))
def test_arbitrary_json_is_either_cleaned_or_rejected_with_field_errors(data):
    before = copy.deepcopy(data)
    try:
        cleaned = ANY_FORM.validate(data, now=NOW)
    except InvalidTaskDataError as exc:
        assert exc.fields and all(isinstance(m, str) for messages in exc.fields.values() for m in messages)
    else:
        assert set(cleaned) <= ANY_FORM.field_keys()
        json.dumps(cleaned, allow_nan=False)
    assert repr(data) == repr(before)

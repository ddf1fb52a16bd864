"""A process owner's DMN edit works without code: new instances follow it, running ones keep their version."""

from __future__ import annotations

import shutil

from conftest_paths import FORMS, PROCESSES
from scenario_driver import ADMIN_ACTOR, CLEAR, SECURITY, Driver, event_data, speaker

from engine import services
from engine.catalog import load_catalog


def test_a_new_notice_threshold_applies_to_new_instances_only(driver, tmp_path):
    running = Driver(driver.engine)
    running.start(event_data(20, speakers=[speaker()]))  # waits in due diligence on version 1
    shutil.copytree(PROCESSES, tmp_path / "processes")
    shutil.copytree(FORMS, tmp_path / "forms")
    rule = tmp_path / "processes" / "notice_rule.dmn"
    text = rule.read_text()
    assert text.count("&gt;= 15") == 1
    rule.write_text(text.replace("&gt;= 15", "&gt;= 25"))
    result = services.deploy(driver.engine, load_catalog(tmp_path / "processes", tmp_path / "forms",
                                                         driver.engine.settings.roles), ADMIN_ACTOR)
    assert ("event_approval", 2) in result.deployed

    new = Driver(driver.engine)
    view = new.start(event_data(20, speakers=[speaker()]))
    assert view.process_version == 2
    new.check_speaker()
    running.complete("due_diligence", CLEAR, SECURITY)
    running.declare()
    assert (running.view().process_version, running.data["late_accepted"]) == (1, False)
    assert (new.data["notice_working_days"], new.data["late_accepted"]) == (20, True)

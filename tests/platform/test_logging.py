"""National register numbers never reach a log line."""

from __future__ import annotations

import dataclasses
import json
import logging

import structlog

from service_runtime.logging import MASK, configure_logging, mask_national_register_numbers

NUMBER = "85073003328"  # a valid national register number (mod-97)


@dataclasses.dataclass
class Person:
    """An object whose repr() carries the number: JSON rendering falls back to repr()."""

    national_register_number: str


def test_a_national_register_number_in_any_field_of_a_log_event_comes_out_masked():
    event = {
        "event": f"looked up person {NUMBER}",
        "national_register_number": NUMBER,
        "formatted": "85.07.30-033.28",
        "nested": {"persons": [{"rrn": NUMBER}, ("85073003328",)]},
        "as_int": 85073003328,
        "born_2000s_as_int": 1010112345,
        NUMBER: "as a key",
    }
    masked = mask_national_register_numbers(None, "info", event)
    rendered = json.dumps(masked, default=str)
    assert NUMBER not in rendered and "85.07.30-033.28" not in rendered and "1010112345" not in rendered
    assert masked["national_register_number"] == MASK
    assert masked["nested"]["persons"][0]["rrn"] == MASK


def test_other_numbers_are_left_alone():
    event = {
        "event": "dossier 2026-000123 has 32 contact hours",
        "odb_number": "ODB-X12345",
        "phone": "+32 2 553 44 33",
        "correlation_id": "0b4f6c1e-2f7a-4c7e-9eba-f69055713518",
    }
    assert mask_national_register_numbers(None, "info", dict(event)) == event


def test_masking_runs_in_the_configured_pipeline_for_structlog_and_stdlib_loggers(capsys):
    configure_logging(service="test", level="INFO", json=True)
    try:
        structlog.get_logger("t").info("person registered", rrn=NUMBER, note=f"nr {NUMBER}", person=Person(NUMBER), raw=NUMBER.encode())
        logging.getLogger("some.library").warning("lookup of %s failed", NUMBER)
        try:
            raise ValueError(f"bad number {NUMBER}")
        except ValueError:
            structlog.get_logger("t").exception("failed")
        output = capsys.readouterr().out
        lines = [json.loads(line) for line in output.splitlines() if line.strip()]
        assert len(lines) == 3
        assert NUMBER not in output
        assert lines[0]["rrn"] == MASK
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()

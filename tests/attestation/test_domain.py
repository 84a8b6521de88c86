"""The attestation rules in plain Python (no stack), each test named by its rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import uuid4

from attestation import domain, rows
from attestation.domain import Enrolled, Module, Status, Training

PROVIDER = uuid4()


def training(**overrides) -> Training:
    fields = dict(
        odb_number="ODB-100",
        organisation_id=PROVIDER,
        holds_from=date(2026, 9, 1),
        stop_on=None,
        replaced_by=None,
        structure="integral",
        blended=False,
        modules={},
    )
    return Training(**{**fields, **overrides})


def enrol(t: Training | None, *, module: str = "", starts_on: date = date(2026, 9, 15), ends_on: date = date(2027, 6, 30), new: bool = True):
    return domain.enrolment_problems(training=t, organisation_id=PROVIDER, module=module, starts_on=starts_on, ends_on=ends_on, new=new)


def rules(problems) -> list[str | None]:
    return [p.rule for p in problems]


def test_a4_the_registration_holds_on_the_start_date_and_no_student_after_a_stop():
    # rule A-4
    assert enrol(training()) == ([], Status.ACCEPTED)
    assert rules(enrol(training(), starts_on=date(2026, 8, 31))[0]) == ["A-4"]
    assert rules(enrol(training(stop_on=date(2026, 12, 1)), starts_on=date(2026, 12, 1))[0]) == ["A-4"]
    assert enrol(training(stop_on=date(2026, 12, 1)), starts_on=date(2026, 11, 30))[0] == []


def test_a7_more_than_two_school_years_cannot_be_processed():
    # rule A-7: 2026-2027 and 2027-2028 are two; into 2028-2029 is three
    assert enrol(training(), ends_on=date(2028, 8, 31))[0] == []
    assert rules(enrol(training(), ends_on=date(2028, 9, 1))[0]) == ["A-7"]


def test_a8_after_a_replacement_new_students_go_to_the_new_number():
    # rule A-8
    replaced = training(replaced_by="ODB-200")
    problems, _ = enrol(replaced)
    assert rules(problems) == ["A-8"] and "ODB-200" in problems[0].reason
    assert enrol(replaced, new=False)[0] == []  # a correction of an enrolled student stays on the old number


def test_an_unknown_number_is_held_not_refused():
    assert enrol(None) == ([], Status.HELD)


def test_a2_modules_of_a_modular_training():
    # rule A-2
    modular = training(structure="modular", modules={"Deel 1": Module("Deel 1", Decimal(20), False, date(2026, 9, 15), date(2027, 1, 31))})
    assert rules(enrol(modular)[0]) == ["A-2"]
    assert enrol(modular, module="Deel 1")[0] == []
    assert rules(enrol(training(), module="Deel 1")[0]) == ["A-2"]
    assert rules(enrol(training(organisation_id=uuid4()))[0]) == ["A-2"]


def attend(enrolled: Enrolled | None, *, odb: str = "ODB-100", module: str = "", completed: bool | None = None, t: Training | None = None, student: str = "s1"):
    return domain.attendance_problems(
        enrolment=enrolled, training=t or training(), student_id=student, odb_number=odb, module=module,
        period_from=date(2026, 9, 15), period_to=date(2026, 12, 31), hours=Decimal(20), completed=completed,
    )  # fmt: skip


def test_a3_attendance_on_the_enrolments_number_only():
    # rule A-3
    enrolled = Enrolled(uuid4(), "ODB-100", "", "s1", Status.ACCEPTED, date(2026, 9, 15), date(2027, 6, 30))
    assert attend(enrolled) == ([], Status.ACCEPTED)
    assert rules(attend(enrolled, odb="ODB-200")[0]) == ["A-3"]
    assert rules(attend(None)[0]) == ["A-3"]
    assert rules(attend(enrolled, student="s2")[0]) == ["A-2"]


def test_a5_completion_only_for_blended_modules():
    # rule A-5
    enrolled = Enrolled(uuid4(), "ODB-100", "", "s1", Status.ACCEPTED, date(2026, 9, 15), date(2027, 6, 30))
    assert rules(attend(enrolled, completed=True)[0]) == ["A-5"]
    assert attend(enrolled, completed=True, t=training(blended=True))[0] == []


def test_a6_hours_combine_across_providers_from_2021_2022():
    # rule A-6
    assert not domain.counts_from_combined("2020-2021")
    assert domain.counts_from_combined("2021-2022")
    assert domain.reached(Decimal(32)) and not domain.reached(Decimal("31.99"))


def test_national_register_numbers_are_checked_and_never_repeated():
    # rule A-2
    assert domain.national_register_number_problem("85.07.30-033.28") is None
    assert domain.national_register_number_problem("01010100126") is None  # born in 2001: the 2-prefixed check
    for wrong in ("85073003329", "8507300332", "85133003328x"):
        problem = domain.national_register_number_problem(wrong)
        assert problem and wrong not in problem


def test_a2_a_row_from_a_spreadsheet_in_dutch():
    # rule A-2
    values = {"kind": "aanwezigheid", "reference": "R1", "odb_number": "odb-100", "national_register_number": "85073003328", "period_from": "15/09/2026",
              "period_to": "31/12/2026", "hours": "7,5", "completed": "ja"}  # fmt: skip
    row = rows.parse(values, 2)
    assert isinstance(row, rows.Row) and row.hours == Decimal("7.5") and row.period_from == date(2026, 9, 15) and row.completed is True
    assert row.odb_number == "ODB-100"
    problems = rows.parse({**values, "hours": "veel", "completed": "misschien", "national_register_number": "123"}, 3)
    assert isinstance(problems, list) and {(p.field, p.rule) for p in problems} == {("hours", "A-2"), ("completed", "A-5"), ("national_register_number", "A-2")}
    assert rows.column_of("Rijksregisternummer") == "national_register_number" and rows.column_of("\ufeffType") == "kind" and rows.column_of("foo") is None


def test_the_readmes_example_csv_is_a_file_the_service_takes():
    # rule A-2: docs/examples/attestations.csv (Dutch headers, semicolons, a BOM) parses row by row
    from pathlib import Path

    from attestation import bulk

    data = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "attestations.csv").read_bytes()
    inspector = bulk.Inspector("csv", limit=10_000_000)
    inspector.feed(data)
    layout = inspector.finish() or inspector.layout
    assert layout is not None and layout.delimiter == ";"
    text = data.decode("utf-8-sig").splitlines(keepends=True)
    parsed = [rows.parse(values, number) for number, values in bulk.records(text, layout)]  # type: ignore[arg-type]
    assert all(isinstance(row, rows.Row) for row in parsed), parsed
    assert [row.kind for row in parsed] == ["enrolment"] * 3 + ["attendance"] * 3  # type: ignore[union-attr]

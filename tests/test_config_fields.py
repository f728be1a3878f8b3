"""The [fields] section and rules in the configuration: parsed, refused with the rule's line, overridden per inbox."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ocrd.config import FieldRule, FieldsSettings
from ocrd.config_fields import rule_lines
from ocrd.config_loader import describe, load_config
from ocrd.errors import ConfigError
from ocrd.fields.rules import apply_rules
from ocrd.result import Line

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config" / "ocrd.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ocrd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def inbox_table(tmp_path: Path, number: int = 1) -> str:
    """Five lines: a blank one, then an [[inbox]] table."""
    return f'\n[[inbox]]\nname = "in{number}"\npath = "{tmp_path}/in{number}"\noutbox = "{tmp_path}/out{number}"\n'


GOOD = r"""[fields]
mode = "auto"
qr = false

[[fields.rules]]
name = "invoice_code"
pattern = '发票代码[:：]?\s*(?P<value>[0-9Oo]{10,12})'
kinds = ["vat_normal", "vat_electronic_normal"]
normalise = "digits"
check_pattern = '\d{12}'
check = "none"

[[fields.rules]]
name = "seller_code"
pattern = "销售方税号[:：]?(?P<value>\\w{18})"
normalise = "upper"
check = "uscc"
"""


def test_rules_are_read_with_their_settings_and_defaults(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD + inbox_table(tmp_path)), env={})
    fields = config.engine.fields
    assert fields.mode == "auto" and fields.qr is False
    assert fields.rules == (
        FieldRule(
            name="invoice_code",
            pattern=r"发票代码[:：]?\s*(?P<value>[0-9Oo]{10,12})",
            kinds=("vat_normal", "vat_electronic_normal"),
            normalise="digits",
            check="none",
            check_pattern=r"\d{12}",
        ),
        FieldRule(name="seller_code", pattern=r"销售方税号[:：]?(?P<value>\w{18})", normalise="upper", check="uscc"),
    )
    assert "fields: auto; 2 rules (invoice_code, seller_code); QR codes ignored" in describe(config)


def test_without_a_fields_section_the_defaults_apply(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, inbox_table(tmp_path)), env={})
    assert config.engine.fields == FieldsSettings()
    assert config.inboxes[0].fields is None and config.inboxes[0].rules == () and config.inboxes[0].ledger is False


# Rule #2 starts on line 8 in each of these; the bad key is named in the message.
BAD_SECOND_RULE = """[fields]
mode = "auto"

[[fields.rules]]
name = "first"
pattern = '(?P<value>\\d+)'

[[fields.rules]]
name = "invoice_code"
{bad}
"""


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        (
            "pattern = '发票代码[:：]?(\\d{12})'",
            'pattern has no group named "value" — write it as (?P<value>...)',
        ),
        ("pattern = '发票代码(?P<value>\\d{12}'", "pattern is not a valid regular expression: missing ), unterminated"),
        (
            "pattern = '(?P<value>\\d+)'\nkinds = ['vat_normal', 'receipt']",
            "kinds has unknown kind(s) 'receipt'; choose",
        ),
        ("pattern = '(?P<value>\\d+)'\nkinds = []", "kinds must name at least one kind"),
        ("pattern = '(?P<value>\\d+)'\nkinds = 'vat_normal'", "kinds must be a list of document kinds"),
        ("pattern = '(?P<value>\\d+)'\nnormalise = 'numbers'", "normalise must be one of none, digits, upper"),
        ("pattern = '(?P<value>\\d+)'\ncheck = 'luhn'", "check must be one of none, uscc, date, amount (got 'luhn')"),
        ("pattern = '(?P<value>\\d+)'\ncheck_pattern = '(\\d{12}'", "check_pattern is not a valid regular expression"),
        (
            "pattern = '(?P<value>\\d+)'\nnormalize = 'digits'",
            "normalize is not a rule setting (did you mean 'normalise'?)",
        ),
        ("kinds = ['vat_normal']", "pattern is missing: a regular expression with a group named value"),
        ("pattern = 12", "pattern must be a text string (got 12)"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_file_its_line_and_the_key(tmp_path: Path, bad: str, expected: str) -> None:
    path = write(tmp_path, BAD_SECOND_RULE.format(bad=bad) + inbox_table(tmp_path))
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    message = str(caught.value)
    assert message.startswith(f'{path} line 8: [[fields.rules]] #2 "invoice_code": {expected}'), message
    assert caught.value.path == str(path)


def test_a_rule_name_that_is_not_snake_case_is_refused(tmp_path: Path) -> None:
    text = BAD_SECOND_RULE.replace('name = "invoice_code"', 'name = "Invoice-Code"').format(
        bad="pattern = '(?P<value>x)'"
    )
    path = write(tmp_path, text + inbox_table(tmp_path))
    with pytest.raises(
        ConfigError, match=re.escape(f'{path} line 8: [[fields.rules]] #2 "Invoice-Code": name must be snake_case')
    ):
        load_config(path, env={})


def test_lines_are_counted_past_comments_strings_and_multiline_values(tmp_path: Path) -> None:
    # Headers inside comments and strings are not rules; braces and brackets in patterns are not tables.
    text = (
        "# [[fields.rules]] in a comment\n"  # 1
        "[web]\n"  # 2
        'token = """\n'  # 3
        "[[fields.rules]]\n"  # 4
        '{ not = "a table" }"""\n'  # 5
        "\n"  # 6
        "[fields]\n"  # 7
        "rules = [\n"  # 8
        "  { name = 'a', pattern = '[{]x(?P<value>\\d{2,3})' },  # a { in a comment\n"  # 9
        '  { name = \'b\', pattern = """(?P<value>\n'  # 10
        '[a-z]+)""", kinds = [\'other\'] },\n'  # 11
        "  { name = 'c', pattern = 'no group' },\n"  # 12
        "]\n"
    )
    assert rule_lines(text) == {("fields", 0): [9, 10, 12]}
    path = write(tmp_path, text + inbox_table(tmp_path))
    with pytest.raises(ConfigError, match=re.escape(f'{path} line 12: [[fields.rules]] #3 "c": pattern has no group')):
        load_config(path, env={})


def test_a_single_rules_table_asks_for_double_brackets(tmp_path: Path) -> None:
    path = write(tmp_path, "[fields.rules]\nname = 'a'\npattern = '(?P<value>x)'\n" + inbox_table(tmp_path))
    with pytest.raises(ConfigError, match=r"write each rule as its own \[\[fields.rules\]\] table, with two brackets"):
        load_config(path, env={})


def test_fields_settings_come_from_the_environment_too(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + inbox_table(tmp_path))
    config = load_config(path, env={"OCRD_FIELDS__MODE": "off", "OCRD_FIELDS__QR": "yes"})
    assert config.engine.fields.mode == "off" and config.engine.fields.qr is True
    assert len(config.engine.fields.rules) == 2, "rules from the file stay"
    with pytest.raises(ConfigError, match=r"environment variable OCRD_FIELDS__MODE: must be one of 'auto', 'off'"):
        load_config(path, env={"OCRD_FIELDS__MODE": "invoices"})
    with pytest.raises(ConfigError, match=r"OCRD_FIELDS__RULES: can only be written in the configuration file"):
        load_config(path, env={"OCRD_FIELDS__RULES": "[]"})
    with pytest.raises(ConfigError, match=r"unknown key 'mod' in \[fields\] \(did you mean 'mode'\?\)"):
        load_config(path, env={"OCRD_FIELDS__MOD": "off"})


def test_fields_is_its_own_section_not_an_engine_key(tmp_path: Path) -> None:
    path = write(tmp_path, '[engine]\nfields = "off"\n' + inbox_table(tmp_path))
    with pytest.raises(ConfigError, match=r"unknown key 'fields' in \[engine\]"):
        load_config(path, env={})


def test_inboxes_set_their_mode_ledger_and_rules_of_their_own(tmp_path: Path) -> None:
    text = (
        GOOD
        + "\n[inbox_defaults]\nledger = true\n"
        + inbox_table(tmp_path, 1)
        + 'fields = "off"\nledger = false\n'
        + inbox_table(tmp_path, 2)
        + "\n[[inbox.rules]]\nname = 'order_number'\npattern = '订单号(?P<value>\\S+)'\nnormalise = 'upper'\n"
    )
    config = load_config(write(tmp_path, text), env={})
    first, second = config.inboxes
    assert (first.fields, first.ledger, first.rules) == ("off", False, ())
    assert second.fields is None and second.ledger is True
    assert second.rules == (FieldRule(name="order_number", pattern=r"订单号(?P<value>\S+)", normalise="upper"),)
    shown = describe(config)
    assert "fields: off" in shown and "1 rule (order_number) of its own, ledger" in shown

    # What a worker is given for each inbox: its mode, and its own rules ahead of the shared ones.
    shared = config.engine.fields
    assert shared.for_inbox(first.fields, first.rules) == FieldsSettings(mode="off", rules=shared.rules, qr=False)
    own = shared.for_inbox(second.fields, second.rules)
    assert own.mode == "auto" and own.rules == (*second.rules, *shared.rules)
    assert shared.for_inbox(None, ()) is shared
    assert shared.for_inbox(second.fields, second.rules) == own  # the same settings every time it is asked


def test_a_bad_inbox_rule_names_its_inbox_and_line(tmp_path: Path) -> None:
    text = (
        inbox_table(tmp_path, 1)  # lines 1-5
        + "\n[[inbox.rules]]\nname = 'ok'\npattern = '(?P<value>1)'\n"  # lines 6-9
        + inbox_table(tmp_path, 2)  # lines 10-14
        + "\n[[inbox.rules]]\nname = 'ok'\npattern = '(?P<value>1)'\n"  # lines 15-18
        + "\n[[inbox.rules]]\nname = 'po'\npattern = '(?P<value>1)'\nkinds = ['po']\n"  # lines 19-23
    )
    path = write(tmp_path, text)
    assert rule_lines(text) == {("inbox", 1): [7], ("inbox", 2): [16, 20]}
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={})
    assert str(caught.value).startswith(f'{path} line 20: [[inbox]] #2 [[inbox.rules]] #2 "po": kinds has unknown kind')


def test_inbox_modes_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, inbox_table(tmp_path) + 'fields = "invoices"\n')
    with pytest.raises(ConfigError, match=r"\[\[inbox\]\] #1 fields must be one of 'auto', 'off', 'vat_special'"):
        load_config(path, env={})
    config = load_config(write(tmp_path, inbox_table(tmp_path) + 'fields = ""\n'), env={})
    assert config.inboxes[0].fields is None


def example_rule() -> str:
    """The commented [[fields.rules]] example of config/ocrd.toml, uncommented."""
    text = EXAMPLE.read_text(encoding="utf-8")
    block = text[text.index("# [[fields.rules]]") :].split("\n\n", 1)[0]
    return "\n".join(line.removeprefix("# ") for line in block.splitlines())


def test_the_documented_example_checks_that_an_invoice_code_has_twelve_digits(tmp_path: Path) -> None:
    rule_text = example_rule()
    assert rule_text.startswith("[[fields.rules]]\n")
    config = load_config(write(tmp_path, rule_text + "\n" + inbox_table(tmp_path)), env={})
    (rule,) = config.engine.fields.rules
    assert rule.name == "invoice_code" and rule.normalise == "digits" and rule.check_pattern == r"\d{12}"

    def read(text: str) -> dict[str, object]:
        box = [[0.0, 0.0], [100.0, 0.0], [100.0, 10.0], [0.0, 10.0]]
        code = apply_rules(config.engine.fields.rules, "vat_normal", [(0, [Line(text, 0.95, box)])])["invoice_code"]
        return {"value": code.value, "valid": code.valid, "changes": code.changes}

    assert read("发票代码：144031900111") == {"value": "144031900111", "valid": None, "changes": []}
    assert read("发票代码：14403190011")["valid"] is False
    assert read("发票代码:1440319O0111") == {"value": "144031900111", "valid": None, "changes": ["O→0"]}

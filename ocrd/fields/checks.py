"""Value checks of invoice fields: pure functions from values to ``Check`` results, nothing read or guessed.

Each check is named by what it compares (a stable snake_case identifier) and its message is written
for the clerk reviewing the invoice. Inputs are already normalised by the extraction (upper case,
no spaces, amounts as Decimal); a check reports what it is given, it does not repair it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from ocrd.fields.amounts import format_amount, parse_amount, quantise
from ocrd.fields.capitals import parse_capitals, render_capitals
from ocrd.fields.model import VAT_KINDS, Check

# The amount and date helpers are part of this module's interface so that a caller checking values
# (the extraction, user rules) imports one module.
__all__ = [
    "USCC_ALPHABET",
    "check_check_code",
    "check_date",
    "check_invoice_code",
    "check_invoice_number",
    "check_line_items",
    "check_sum",
    "check_total_in_words",
    "check_uscc",
    "format_amount",
    "parse_amount",
    "parse_capitals",
    "parse_date",
    "render_capitals",
    "uscc_check_character",
]

# --- taxpayer IDs ---------------------------------------------------------------------------------

# GB 32100-2015 统一社会信用代码: 18 characters from 0-9 and the capitals without I O S V Z;
# 1 登记管理部门代码, 2 机构类别代码, 3-8 登记管理机关行政区划码 (GB/T 2260, always digits),
# 9-17 主体标识码 (the GB 11714 organisation code), 18 the check character computed below.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)  # 3**i mod 31
_USCC = re.compile(rf"[{USCC_ALPHABET}]{{2}}\d{{6}}[{USCC_ALPHABET}]{{10}}")
# Taxpayer IDs from before the USCC (still printed by early registrants and individuals):
# 15 = 6-digit area code + 9-character organisation code (code body 0-9/A-Z, check 0-9/X), or an
# individual's old 15-digit ID card number; 17 = a 15-digit ID number + 2 digits; 20 = an 18-digit
# ID number (last character 0-9/X) + 2 digits. None of them carries a check character of its own.
_OLD_TAX_IDS = {
    15: re.compile(r"\d{6}[0-9A-Z]{8}[0-9X]"),
    17: re.compile(r"\d{17}"),
    20: re.compile(r"\d{17}[0-9X]\d{2}"),
}
# GB 11643 居民身份证号码: individuals on fully digital invoices may give it as their tax ID. It is
# 6 area digits (first digit 1-8), the birth date YYYYMMDD, 3 sequence digits and an ISO 7064 MOD 11-2
# check character. An 18-character ID failing the credit-code check but well formed as an ID number
# is said to be so in the message; it still fails, since a misread code can look like one by chance.
_RESIDENT_ID = re.compile(r"[1-8]\d{5}(?P<birth>(?:19|20)\d{6})\d{3}[0-9X]")
_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)  # 2**(17-i) mod 11
_RESIDENT_ID_CHECKS = "10X98765432"


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a unified social credit code.

    Every weight is a power of 3 modulo the prime 31, so no weight is 0 mod 31 and any single
    changed character changes the sum mod 31: every single substitution is caught.
    """
    if len(first17) != 17 or any(char not in USCC_ALPHABET for char in first17):
        raise ValueError(f"not the first 17 characters of a credit code: {first17!r}")
    total = sum(USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def _resident_id_valid(code: str) -> bool:
    match = _RESIDENT_ID.fullmatch(code)
    if match is None:
        return False
    birth = match["birth"]
    try:
        date(int(birth[:4]), int(birth[4:6]), int(birth[6:]))
    except ValueError:
        return False  # not a birth date, so not an ID number
    total = sum(int(char) * weight for char, weight in zip(code[:17], _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECKS[total % 11] == code[17]


def check_uscc(code: str) -> Check:
    """A taxpayer ID (纳税人识别号 / 统一社会信用代码): its structure, and its check character when it has one."""
    if len(code) == 18 and _USCC.fullmatch(code):
        expected = uscc_check_character(code[:17])
        if expected == code[17]:
            return Check("uscc_check_character", True, f"税号 {code}: check character {code[17]} agrees", "warning")
        if _resident_id_valid(code):
            message = (
                f"税号 {code}: check character {code[17]}, computed {expected}; but it is a well-formed "
                "居民身份证号码 (birth date and check digit agree): an individual's ID number, or a misread code"
            )
        else:
            message = (
                f"税号 {code}: check character {code[17]}, computed {expected}; a character is misread, "
                "or this is one of the early codes issued with a wrong check character"
            )
        return Check("uscc_check_character", False, message, "warning")
    if len(code) == 18:
        impossible = sorted({char for char in code if char not in USCC_ALPHABET})
        if impossible:
            reason = f"has characters a credit code never uses: {' '.join(impossible)}"
        else:
            reason = "has letters in characters 3-8, which are an area code and always digits"
        return Check("tax_id_format", False, f"税号 {code} {reason}", "error")
    pattern = _OLD_TAX_IDS.get(len(code))
    if pattern is None:
        message = f"税号 {code!r} has {len(code)} characters; a taxpayer ID has 18 (or 15, 17, 20 for old ones)"
        return Check("tax_id_format", False, message, "error")
    if not pattern.fullmatch(code):
        return Check("tax_id_format", False, f"税号 {code} has characters impossible in a {len(code)}-character ID")
    message = f"税号 {code}: an old {len(code)}-character taxpayer ID, well formed; no check character applies"
    return Check("tax_id_format", True, message)


# --- invoice code, number, check code ------------------------------------------------------------

# 发票代码: 10 digits on paper special and normal invoices, 12 on electronic invoices (and on paper
# rolls, 卷票). The electronic codes of the evaluation set read 0 + 4-digit province + 2-digit year +
# 3-digit batch + 2-digit kind (11 增值税电子普通发票, 12 its toll variant), but no published rule
# found makes the first digit tell electronic from paper, and the year is when the code was
# allocated, not when the invoice was issued (042001700112 on invoices of 2018). So only digits and
# length are enforced.
_INVOICE_CODE = re.compile(r"\d{10}|\d{12}")


def check_invoice_code(code: str) -> Check:
    if _INVOICE_CODE.fullmatch(code):
        return Check("invoice_code_digits", True, f"发票代码 {code}: {len(code)} digits")
    return Check("invoice_code_digits", False, f"发票代码 {code!r}: must be 10 or 12 digits, is {_describe(code)}")


def check_invoice_number(number: str, kind: str, issue_date: str | None) -> list[Check]:
    """8 digits for invoices with a code; 20 for fully digital ones (数电票), which start with the
    last two digits of the issue year (then 2 province digits, 1 channel digit, a 15-digit serial)."""
    if kind not in VAT_KINDS:
        raise ValueError(f"invoice numbers are checked for the VAT kinds {VAT_KINDS}, not {kind!r}")
    digits = 20 if kind == "fully_digital" else 8
    if re.fullmatch(rf"\d{{{digits}}}", number):
        checks = [Check("invoice_number_digits", True, f"发票号码 {number}: {digits} digits")]
    else:
        message = f"发票号码 {number!r}: must be {digits} digits for this kind of invoice, is {_describe(number)}"
        return [Check("invoice_number_digits", False, message)]
    if kind == "fully_digital" and issue_date is not None:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", issue_date):
            raise ValueError(f"issue_date must be ISO (YYYY-MM-DD), not {issue_date!r}")
        agrees = number[:2] == issue_date[2:4]
        verdict = (
            "agrees"
            if agrees
            else f"they differ (the number of an invoice of {issue_date[:4]} begins {issue_date[2:4]})"
        )
        message = f"发票号码 {number} begins {number[:2]}, 开票日期 {issue_date}: {verdict}"
        checks.append(Check("number_year_matches_date", agrees, message))
    return checks


def check_check_code(code: str) -> Check:
    """校验码: 20 digits. Invoices print it in groups of five ("08795 32740 22546 84486"); joining
    the groups is the caller's job, and a code still containing spaces fails with a message saying so."""
    if re.fullmatch(r"\d{20}", code):
        return Check("check_code_digits", True, f"校验码 {code}: 20 digits")
    hint = "; remove the spaces between its groups of five" if re.fullmatch(r"[\d ]+", code) else ""
    return Check("check_code_digits", False, f"校验码 {code!r}: must be 20 digits, is {_describe(code)}{hint}")


def _describe(text: str) -> str:
    digits = sum(char.isdigit() for char in text)
    if digits == len(text):
        return f"{digits} digits"
    return f"{len(text)} characters of which {digits} digits"


# --- dates ---------------------------------------------------------------------------------------

_DATE_FORMS = (
    re.compile(r"(?P<year>\d{4})年(?P<month>\d{1,2})月(?P<day>\d{1,2})日?"),
    re.compile(r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"),
    re.compile(r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"),
)
FIRST_YEAR = 1990  # no VAT invoice predates the 1994 reform; 1990 leaves room for old receipts


def parse_date(text: str) -> str | None:
    """A printed date as ISO: 2026年01月08日, 2026-01-08, 2026/1/8, 20260108 (full-width digits too) → "2026-01-08".

    Only the shape is read: an impossible date such as 2026年02月30日 comes back as "2026-02-30"
    so that check_date reports it, rather than vanishing as "no date found"."""
    compact = "".join(unicodedata.normalize("NFKC", text).split())
    for form in _DATE_FORMS:
        match = form.fullmatch(compact)
        if match:
            return f"{match['year']}-{int(match['month']):02d}-{int(match['day']):02d}"
    return None


def check_date(iso: str, today: date | None = None) -> Check:
    """A real calendar date from 1990 up to the end of next year (today's year + 1)."""
    last_year = (today or date.today()).year + 1
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso):
        return Check("date_valid", False, f"日期 {iso!r} is not a date in the form YYYY-MM-DD")
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return Check("date_valid", False, f"日期 {iso} is not a calendar date")
    if not FIRST_YEAR <= day.year <= last_year:
        return Check("date_valid", False, f"日期 {iso}: the year is outside {FIRST_YEAR}-{last_year}")
    return Check("date_valid", True, f"日期 {iso}: a calendar date within {FIRST_YEAR}-{last_year}")


# --- amounts -------------------------------------------------------------------------------------


def check_total_in_words(words: str, total: Decimal) -> Check:
    """价税合计 in capitals against 价税合计 in figures, to the fen."""
    value = parse_capitals(words)
    # The figure written out as the tax system prints it, for the reviewer to compare by eye.
    expected = _rendered(total)
    if value is None:
        message = (
            f"价税合计(大写) “{words}” is not a well-formed amount in capitals; "
            f"{format_amount(total)} in capitals is {expected}"
        )
        return Check("words_match_total", False, message)
    agrees = value == quantise(total)
    message = f"价税合计(大写) {words} = {format_amount(value)}, 价税合计(小写) {format_amount(total)}: {_verdict(value, total)}"
    if not agrees:
        message += f"; {format_amount(total)} in capitals is {expected}"
    return Check("words_match_total", agrees, message)


def _rendered(total: Decimal) -> str:
    try:
        return render_capitals(total)
    except ValueError:  # beyond what capitals are printed for (10^12 yuan and more)
        return "not printable in capitals"


def check_sum(pretax: Decimal, tax: Decimal, total: Decimal) -> Check:
    """合计金额 + 合计税额 = 价税合计, to the fen."""
    computed = quantise(pretax) + quantise(tax)
    agrees = computed == quantise(total)
    message = (
        f"合计金额 {format_amount(pretax)} + 合计税额 {format_amount(tax)} = {format_amount(computed)}, "
        f"价税合计 {format_amount(total)}: {_verdict(computed, total)}"
    )
    return Check("sum_pretax_tax_total", agrees, message)


def _verdict(computed: Decimal, printed: Decimal) -> str:
    difference = quantise(printed) - computed
    return "agrees" if not difference else f"differs by {format_amount(abs(difference))}"


# Tax rates that mean no tax is charged; the line's 税额 is printed as *** (or 0.00).
_NO_TAX_RATES = ("免税", "不征税")
_PLACEHOLDER = "***"
_ADDENDS_SHOWN = 6  # beyond this many lines a sum's message gives the count, not every addend
_RATE = re.compile(r"(?P<percent>\d{1,2}(?:\.\d+)?)%")


def _tax_rate(text: str | None) -> Decimal | None:
    """A printed rate as a fraction ("13%" → 0.13, 免税/不征税 → 0), None when unknown (None, ***)."""
    if text is None:
        return None
    compact = "".join(unicodedata.normalize("NFKC", text).split())
    if compact in _NO_TAX_RATES:
        return Decimal(0)
    match = _RATE.fullmatch(compact)
    return Decimal(match["percent"]) / 100 if match else None


def check_line_items(items: list[dict[str, str | None]], pretax: Decimal | None, tax: Decimal | None) -> list[Check]:
    """The lines against the totals: 金额 sum to 合计金额, 税额 to 合计税额 (to the fen), and each line's
    税额 ≈ 金额 × 税率 within 0.01 (a warning: invoices with several lines round differently).

    What is unknown is skipped: a sum when a total or any line's value is missing, a line's rate
    check when its rate is unreadable or ***. A line taxed 免税/不征税 with no 税额 counts as 0 in
    the tax sum, since that is what *** means there. A value present but not an amount is an error.
    """
    checks: list[Check] = []
    amounts: list[Decimal] = []
    taxes: list[Decimal] = []
    for number, item in enumerate(items, start=1):
        label = f"第{number}行" + (f" {item['name']}" if item.get("name") else "")
        amount = _line_amount(item.get("amount"), f"{label}: 金额", checks)
        line_tax = _line_amount(item.get("tax"), f"{label}: 税额", checks)
        rate = _tax_rate(item.get("tax_rate"))
        if line_tax is None and rate == 0 and _is_unprinted(item.get("tax")):
            line_tax = Decimal("0.00")
        if amount is not None:
            amounts.append(amount)
        if line_tax is not None:
            taxes.append(line_tax)
        if amount is not None and line_tax is not None and rate is not None:
            checks.append(_line_rate_check(label, amount, item.get("tax_rate") or "", rate, line_tax))
    if items and pretax is not None and len(amounts) == len(items):
        checks.append(_sum_check("line_items_sum_amount", "金额", "合计金额", amounts, pretax))
    if items and tax is not None and len(taxes) == len(items):
        checks.append(_sum_check("line_items_sum_tax", "税额", "合计税额", taxes, tax))
    return checks


def _is_unprinted(text: str | None) -> bool:
    return text is None or text.strip() == _PLACEHOLDER


def _line_amount(text: str | None, label: str, checks: list[Check]) -> Decimal | None:
    """A line's amount; None when missing, *** or unreadable, and for unreadable also a failed check."""
    if text is None or text.strip() == _PLACEHOLDER:
        return None
    value = parse_amount(text)
    if value is None:
        checks.append(Check("line_item_values", False, f"{label} {text!r} is not an amount"))
    return value


def _line_rate_check(label: str, amount: Decimal, printed_rate: str, rate: Decimal, line_tax: Decimal) -> Check:
    expected = quantise(amount * rate)
    agrees = abs(expected - line_tax) <= Decimal("0.01")
    verdict = "agrees" if agrees else f"differs by {format_amount(abs(expected - line_tax))}"
    message = (
        f"{label}: 金额 {format_amount(amount)} × {printed_rate} = {format_amount(expected)}, "
        f"税额 {format_amount(line_tax)}: {verdict}"
    )
    return Check("line_item_tax_rate", agrees, message, "warning")


def _sum_check(name: str, column: str, total_name: str, values: list[Decimal], total: Decimal) -> Check:
    computed = sum(values, Decimal("0.00"))
    agrees = computed == quantise(total)
    if len(values) == 1:
        addends = f"明细{column} {format_amount(values[0])}"
    elif len(values) <= _ADDENDS_SHOWN:
        terms = [format_amount(values[0])] + [
            f"- {format_amount(-value)}" if value < 0 else f"+ {format_amount(value)}" for value in values[1:]
        ]
        addends = f"明细{column} {' '.join(terms)} = {format_amount(computed)}"
    else:
        addends = f"{len(values)} 行明细{column}之和 {format_amount(computed)}"
    message = f"{addends}, {total_name} {format_amount(total)}: {_verdict(computed, total)}"
    return Check(name, agrees, message)

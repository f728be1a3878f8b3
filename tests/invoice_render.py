"""Synthetic Chinese VAT invoices whose true fields are known exactly, for the fields stage's tests.

``make_invoice`` draws a plausible invoice from a seed (companies, valid tax IDs, line items that
add up to the fen, the amount in capitals, the QR payload) and, when asked, corrupts one printed
value so that a check must flag it. ``render_png`` and ``render_pdf`` draw it in the layout of the
real forms (the fields_dev set under shared/eval): the 增值税电子普通发票 with code, check code and
machine number, or the fully digital 电子发票（普通发票）. ``degrade`` makes a scan-like copy.

The tax-ID check characters and the amount in capitals are implemented here on their own, not
imported from ``ocrd.fields``: they are the oracle that the stage is tested against.
"""

from __future__ import annotations

import datetime
import functools
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import cv2
import numpy as np
import pymupdf

KINDS = ("vat_electronic_normal", "fully_digital")
CORRUPTIONS = ("tax_id", "sum", "words", "qr")
HEADER_FIELDS = (
    "invoice_code",
    "invoice_number",
    "issue_date",
    "check_code",
    "machine_number",
    "buyer_name",
    "buyer_tax_id",
    "seller_name",
    "seller_tax_id",
    "amount_pretax",
    "tax",
    "total",
    "total_in_words",
)
LINE_ITEM_KEYS = ("name", "quantity", "unit_price", "amount", "tax_rate", "tax")

PAGE_WIDTH_MM = 240.0
PAGE_HEIGHT_MM = 140.0
FULLY_DIGITAL_TITLE = "电子发票（普通发票）"

# ---------------------------------------------------------------------------------------------
# Check characters and amounts in capitals (the oracle)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 11714 organisation code (characters 9-17 of the credit code): its own check character.
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def uscc_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code (GB 32100-2015) for its first 17."""
    if len(first17) != 17 or any(ch not in USCC_ALPHABET for ch in first17):
        raise ValueError(f"not the first 17 characters of a credit code: {first17!r}")
    total = sum(USCC_ALPHABET.index(ch) * weight for ch, weight in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """Whether ``code`` is 18 characters of the credit-code alphabet with the right check character."""
    if len(code) != 18 or any(ch not in USCC_ALPHABET for ch in code):
        return False
    return uscc_check_character(code[:17]) == code[17]


def org_code_check_character(first8: str) -> str:
    """The 9th character of a GB 11714 organisation code; letters count 10 (A) to 35 (Z)."""
    total = sum(int(ch, 36) * weight for ch, weight in zip(first8, ORG_WEIGHTS, strict=True))
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"


def _group_in_words(group: int) -> str:
    """0 < group < 10000 in capitals, inner zeros collapsed to one 零 (1005 → 壹仟零伍)."""
    out = ""
    pending_zero = False
    for digit, unit in zip(f"{group:04d}", ("仟", "佰", "拾", ""), strict=True):
        if digit == "0":
            pending_zero = bool(out)
            continue
        if pending_zero:
            out += "零"
            pending_zero = False
        out += CAPITAL_DIGITS[int(digit)] + unit
    return out


def integer_in_words(number: int) -> str:
    """A non-negative integer in financial capitals: 205 → 贰佰零伍, 100500 → 壹拾万零伍佰."""
    if number < 0:
        raise ValueError("negative")
    if number == 0:
        return "零"
    groups: list[int] = []
    while number:
        groups.append(number % 10000)
        number //= 10000
    out = ""
    zero_between = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            zero_between = bool(out)
            continue
        # A gap inside the group's leading digits or a whole skipped group reads as one 零.
        if out and (zero_between or group < 1000):
            out += "零"
        out += _group_in_words(group) + ("", "万", "亿", "万亿")[index]
        zero_between = False
    return out


def amount_in_words(amount: str, *, yuan: str = "圆", jiao_zheng: bool = True) -> str:
    """The amount ("145.18") as printed after 价税合计（大写）: 壹佰肆拾伍圆壹角捌分.

    ``yuan`` is 圆 or 元 (both occur on real forms). A zero units digit before non-zero 角 is
    written 零 (壹佰元零贰角伍分), as the real forms do. ``jiao_zheng`` adds 整 after a final 角
    (柒拾叁圆贰角整, fully digital) or not (伍拾叁圆肆角, the coded forms); 整 after 圆 always.
    """
    fen = _fen(amount)
    if fen < 0:
        raise ValueError("negative amounts have no capitals here")
    integer, jiao, fen_digit = fen // 100, fen // 10 % 10, fen % 10
    out = integer_in_words(integer) + yuan if integer else ""
    if jiao == 0 and fen_digit == 0:
        return (out or "零" + yuan) + "整"
    if jiao == 0:
        return out + ("零" if integer else "") + CAPITAL_DIGITS[fen_digit] + "分"
    if integer and integer % 10 == 0:
        out += "零"
    out += CAPITAL_DIGITS[jiao] + "角"
    if fen_digit:
        return out + CAPITAL_DIGITS[fen_digit] + "分"
    return out + ("整" if jiao_zheng else "")


def words_style(kind: str, year: int) -> tuple[str, bool]:
    """(yuan character, 整 after 角) as the real forms print them: fully digital 圆 with 角整;
    the coded form 元 up to 2018 and 圆 from 2019 on (fields_dev has both), no 整 after 角."""
    if kind == "fully_digital":
        return "圆", True
    return ("元" if year < 2019 else "圆"), False


def _fen(amount: str) -> int:
    value = Decimal(amount) * 100
    if value != value.to_integral_value():
        raise ValueError(f"not an amount to the fen: {amount!r}")
    return int(value)


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _round_div(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (tax to the fen)."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    numerator, denominator = abs(numerator), abs(denominator)
    return sign * ((2 * numerator + denominator) // (2 * denominator))


def _decimal_text(value: Decimal, places: int = 8) -> str:
    """Up to ``places`` decimals with trailing zeros dropped, as unit prices are printed (7.02663533)."""
    text = f"{value.quantize(Decimal(1).scaleb(-places)):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---------------------------------------------------------------------------------------------
# The specification


@dataclass(frozen=True)
class Corruption:
    """The one printed value that is wrong on purpose."""

    kind: str  # one of CORRUPTIONS
    field: str  # "seller_tax_id", "tax", "total_in_words" or "qr"
    true: str
    printed: str
    how: str  # for the person reading a failed test


@dataclass
class PageDetails:
    """What the page prints besides the fields: distractors a reader must not take for fields."""

    province: str  # 湖北, 北京, ... (title prefix of the coded kind, the supervision stamp)
    supervision_stamp: tuple[str, str, str]  # top arc, middle, bottom of 全国统一发票监制章
    category: str  # the label beside the QR (成品油), or ""
    buyer_address_phone: str
    buyer_bank_account: str
    seller_address_phone: str
    seller_bank_account: str
    cipher: list[str]  # the 密码区 lines (coded kind)
    payee: str  # 收款人
    reviewer: str  # 复核
    drawer: str  # 开票人
    remarks: str  # 备注
    item_models: list[str]  # 规格型号 per line item
    item_units: list[str]  # 单位 per line item


@dataclass
class InvoiceSpec:
    """One invoice. The attributes named like the labels' fields hold the TRUE values, in the same
    forms as fields_dev/labels.jsonl (amounts "123.45", dates ISO, None where the kind prints
    nothing). ``printed`` holds what the page shows under the same keys plus "qr"; it differs from
    the true values only where ``corrupted`` says."""

    seed: int
    kind: str
    title: str
    invoice_code: str | None
    invoice_number: str
    issue_date: str
    check_code: str | None
    machine_number: str | None
    buyer_name: str
    buyer_tax_id: str
    seller_name: str
    seller_tax_id: str
    amount_pretax: str
    tax: str
    total: str
    total_in_words: str
    line_items: list[dict[str, str]]  # LINE_ITEM_KEYS; "" where the row prints nothing (discount rows)
    qr: str  # the payload a correct QR code carries
    printed: dict[str, Any] = field(default_factory=dict)
    corrupted: Corruption | None = None
    page: PageDetails | None = None

    def fields(self) -> dict[str, Any]:
        """The true fields in the labels' ``fields`` form."""
        data: dict[str, Any] = {"kind": self.kind}
        data.update({name: getattr(self, name) for name in HEADER_FIELDS})
        data["line_items"] = [dict(item) for item in self.line_items]
        return data


# Cities: name, province (short), province (as the tax bureau is named), 4-digit region prefix,
# telephone area code, districts with the last two digits of their administrative code.
_CITIES: tuple[tuple[str, str, str, str, str, tuple[tuple[str, str], ...]], ...] = (
    ("武汉", "湖北", "湖北省", "4201", "027", (("江岸区", "02"), ("武昌区", "06"), ("洪山区", "11"), ("江夏区", "15"))),
    ("广州", "广东", "广东省", "4401", "020", (("越秀区", "04"), ("海珠区", "05"), ("天河区", "06"), ("番禺区", "13"))),
    (
        "深圳",
        "广东",
        "广东省",
        "4403",
        "0755",
        (("罗湖区", "03"), ("福田区", "04"), ("南山区", "05"), ("宝安区", "06")),
    ),
    (
        "杭州",
        "浙江",
        "浙江省",
        "3301",
        "0571",
        (("上城区", "02"), ("西湖区", "06"), ("滨江区", "08"), ("余杭区", "10")),
    ),
    ("南京", "江苏", "江苏省", "3201", "025", (("玄武区", "02"), ("秦淮区", "04"), ("鼓楼区", "06"), ("江宁区", "15"))),
    ("苏州", "江苏", "江苏省", "3205", "0512", (("吴中区", "06"), ("相城区", "07"), ("姑苏区", "08"))),
    ("成都", "四川", "四川省", "5101", "028", (("锦江区", "04"), ("青羊区", "05"), ("武侯区", "07"), ("成华区", "08"))),
    (
        "长沙",
        "湖南",
        "湖南省",
        "4301",
        "0731",
        (("芙蓉区", "02"), ("天心区", "03"), ("岳麓区", "04"), ("雨花区", "11")),
    ),
    ("西安", "陕西", "陕西省", "6101", "029", (("新城区", "02"), ("碑林区", "03"), ("莲湖区", "04"), ("雁塔区", "13"))),
    ("郑州", "河南", "河南省", "4101", "0371", (("中原区", "02"), ("二七区", "03"), ("金水区", "05"))),
    (
        "合肥",
        "安徽",
        "安徽省",
        "3401",
        "0551",
        (("瑶海区", "02"), ("庐阳区", "03"), ("蜀山区", "04"), ("包河区", "11")),
    ),
    ("北京", "北京", "北京市", "1101", "010", (("东城区", "01"), ("西城区", "02"), ("朝阳区", "05"), ("海淀区", "08"))),
    (
        "上海",
        "上海",
        "上海市",
        "3101",
        "021",
        (("黄浦区", "01"), ("徐汇区", "04"), ("静安区", "06"), ("浦东新区", "15")),
    ),
    ("天津", "天津", "天津市", "1201", "022", (("和平区", "01"), ("河西区", "03"), ("南开区", "04"))),
    ("重庆", "重庆", "重庆市", "5001", "023", (("渝中区", "03"), ("江北区", "05"), ("渝北区", "12"))),
)
_BRAND_NAMES = (
    "恒通", "华信", "金桥", "宏达", "鼎盛", "瑞丰", "博远", "星河", "汇川", "安泰", "中联", "天成", "立信", "海纳", "嘉禾",
    "启明", "德润", "青松", "凯越", "新元", "广厦", "众合", "卓越", "长风", "润泽", "华腾", "明阳", "永盛", "锦程", "东湖",
)  # fmt: skip
_BUYER_TRADES = (
    "科技", "信息技术", "商贸", "物流", "建筑工程", "文化传媒", "电子", "机械设备", "医药", "食品", "环保科技",
    "供应链管理", "教育咨询", "网络科技",
)  # fmt: skip
_SUFFIXES = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")
_ROADS = ("中山路", "解放大道", "人民路", "建设大道", "长江路", "科技园路", "和平街", "文化路", "学府路", "发展大道")
_BANKS = ("中国工商银行", "中国建设银行", "中国农业银行", "中国银行", "招商银行", "交通银行", "兴业银行")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华慧宁婷鹏辉琳"
_CIPHER_CHARS = "0123456789+-*/<>"


@dataclass(frozen=True)
class _Goods:
    category: str
    name: str
    model: str
    unit: str
    rate: int  # percent
    pricing: str  # "gross": a tax-inclusive total is chosen and split; "net": unit price x quantity
    low: float  # gross total range (gross) or unit price range (net), yuan
    high: float
    quantity: str  # "int", "litres", "dec" or "" (services printed without quantity)


# A seller's trade (the 行业 in its name) and what it sells. Rates are the four the brief names.
_TRADES: dict[str, tuple[_Goods, ...]] = {
    "能源": (
        _Goods("乙醇汽油", "92号车用乙醇汽油(E10)", "92号", "升", 13, "gross", 150, 400, "litres"),
        _Goods("乙醇汽油", "95号车用乙醇汽油(E10)", "95号", "升", 13, "gross", 150, 400, "litres"),
        _Goods("柴油", "0号车用柴油(VIB)", "0号", "升", 13, "gross", 200, 600, "litres"),
    ),
    "餐饮管理": (
        _Goods("餐饮服务", "餐饮费", "", "", 6, "gross", 60, 900, ""),
        _Goods("餐饮服务", "包间服务费", "", "次", 6, "net", 50, 200, "int"),
    ),
    "酒店管理": (
        _Goods("住宿服务", "住宿费", "大床房", "间夜", 6, "net", 180, 650, "int"),
        _Goods("餐饮服务", "早餐", "", "份", 6, "net", 20, 68, "int"),
    ),
    "办公用品": (
        _Goods("纸制品", "复印纸", "A4 70g", "箱", 13, "net", 95, 180, "int"),
        _Goods("文具", "中性笔", "0.5mm", "支", 13, "net", 1.5, 6, "int"),
        _Goods("文具", "文件夹", "A4", "个", 13, "net", 3, 18, "int"),
        _Goods("计算机外部设备", "无线鼠标", "M185", "个", 13, "net", 35, 129, "int"),
    ),
    "信息技术": (
        _Goods("信息技术服务", "软件维护费", "", "项", 6, "net", 800, 9000, "int"),
        _Goods("信息技术服务", "技术服务费", "", "", 6, "gross", 500, 8000, ""),
        _Goods("计算机外部设备", "无线键盘", "K380", "个", 13, "net", 99, 299, "int"),
    ),
    "物流": (
        _Goods("物流辅助服务", "快递服务费", "", "票", 6, "net", 8, 30, "int"),
        _Goods("运输服务", "货物运输服务", "", "吨", 9, "net", 60, 200, "dec"),
    ),
    "客运": (_Goods("运输服务", "客运服务费", "", "次", 3, "gross", 12, 120, ""),),
    "高速公路发展": (_Goods("经营租赁", "通行费", "", "", 3, "gross", 5, 400, ""),),
    "农产品": (
        _Goods("蔬菜", "有机蔬菜", "", "千克", 9, "net", 4, 20, "dec"),
        _Goods("水果", "苹果", "", "千克", 9, "net", 6, 16, "dec"),
    ),
    "物业管理": (
        _Goods("物业管理服务", "物业费", "", "月", 6, "net", 300, 3000, "int"),
        _Goods("水冰雪", "自来水", "", "吨", 9, "net", 2.5, 4.5, "dec"),
        _Goods("生活服务", "保洁服务费", "", "次", 3, "net", 80, 300, "int"),
    ),
}


@dataclass
class _Party:
    name: str
    tax_id: str
    city: tuple[str, str, str, str, str, tuple[tuple[str, str], ...]]
    district: tuple[str, str]


def _digits(rng: random.Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _person(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _tax_id(rng: random.Random, region: str) -> str:
    """91 (enterprise) + 6-digit region + organisation code with its GB 11714 check + GB 32100 check."""
    if rng.random() < 0.4:
        # Codes issued since 2015 begin with MA and use letters too.
        body = "MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(6))
    else:
        body = rng.choice("3456789") + _digits(rng, 7)
    first17 = "91" + region + body + org_code_check_character(body)
    return first17 + uscc_check_character(first17)


def _party(rng: random.Random, trade: str, avoid: str = "") -> _Party:
    while True:
        city = rng.choice(_CITIES)
        district = rng.choice(city[5])
        name = (
            city[0] + ("市" if rng.random() < 0.35 else "") + rng.choice(_BRAND_NAMES) + trade + rng.choice(_SUFFIXES)
        )
        if name != avoid:
            return _Party(name, _tax_id(rng, city[3] + district[1]), city, district)


def _address_phone(rng: random.Random, party: _Party) -> str:
    city, district = party.city, party.district
    return f"{city[0]}市{district[0]}{rng.choice(_ROADS)}{rng.randint(1, 399)}号 {city[4]}-{rng.randint(5, 8)}{_digits(rng, 7)}"


def _bank_account(rng: random.Random, party: _Party) -> str:
    return f"{rng.choice(_BANKS)}{party.city[0]}{party.district[0][:-1]}支行 {rng.choice('1368')}{_digits(rng, rng.randint(15, 18))}"


def _line_items(rng: random.Random, goods: tuple[_Goods, ...]) -> tuple[list[dict[str, str]], list[str], list[str]]:
    """1-4 rows (a discount row counts), amounts and taxes in integer fen so sums are exact."""
    count = rng.randint(1, 4)
    with_discount = count >= 2 and rng.random() < 0.3
    items: list[dict[str, str]] = []
    models: list[str] = []
    units: list[str] = []
    rows = count - 1 if with_discount else count
    # Different goods on each row while the trade has enough of them.
    picks = rng.sample(goods, rows) if rows <= len(goods) else [rng.choice(goods) for _ in range(rows)]
    for item in picks:
        quantity = unit_price = ""
        if item.pricing == "gross":
            # A round tax-inclusive total half the time, as at a pump or a restaurant till.
            gross = rng.randint(int(item.low), int(item.high)) * 100
            if rng.random() < 0.5:
                gross += rng.randint(1, 99)
            amount = _round_div(gross * 100, 100 + item.rate)
            tax = gross - amount
            if item.quantity == "litres":
                litres = Decimal(gross) / 100 / Decimal(rng.randint(680, 820)) * 100
                quantity = _decimal_text(litres)
                unit_price = _decimal_text(Decimal(amount) / 100 / Decimal(quantity))
        else:
            price_fen = rng.randint(int(item.low * 100), int(item.high * 100))
            if item.quantity == "dec":
                hundredths = rng.randint(50, 5000)
                quantity = _decimal_text(Decimal(hundredths) / 100)
                amount = _round_div(price_fen * hundredths, 100)
            else:
                units_count = rng.randint(1, 12)
                quantity = str(units_count)
                amount = price_fen * units_count
            unit_price = _decimal_text(Decimal(price_fen) / 100)
            tax = _round_div(amount * item.rate, 100)
        items.append(
            {
                "name": f"*{item.category}*{item.name}",
                "quantity": quantity,
                "unit_price": unit_price,
                "amount": _yuan(amount),
                "tax_rate": f"{item.rate}%",
                "tax": _yuan(tax),
            }
        )
        models.append(item.model)
        units.append(item.unit)
    if with_discount:
        # A discount row: the previous row's name and rate, negative amount and tax, no quantity.
        base = items[-1]
        rate = int(base["tax_rate"].rstrip("%"))
        amount = -max(1, _round_div(_fen(base["amount"]) * rng.randint(3, 12), 100))
        tax = -_round_div(-amount * rate, 100)
        items.append(
            {
                "name": base["name"],
                "quantity": "",
                "unit_price": "",
                "amount": _yuan(amount),
                "tax_rate": base["tax_rate"],
                "tax": _yuan(tax),
            }
        )
        models.append("")
        units.append("")
    return items, models, units


def _qr_amount(kind: str, pretax: str, total: str) -> str:
    """Type 10 carries the pre-tax amount with trailing zeros dropped (124.8, 6.2 on real ones);
    type 32 carries the total as printed (300.00)."""
    if kind == "fully_digital":
        return total
    return pretax.rstrip("0").rstrip(".") if "." in pretax else pretax


def _qr_payload(kind: str, code: str | None, number: str, amount: str, date: str, check: str | None, mark: str) -> str:
    compact = date.replace("-", "")
    if kind == "fully_digital":
        return f"01,32,,{number},{amount},{compact},,{mark}"
    return f"01,10,{code},{number},{amount},{compact},{check},{mark},"


def make_invoice(seed: int, kind: str, *, corrupt: str | None = None) -> InvoiceSpec:
    """A deterministic invoice for ``seed``. With ``corrupt`` one printed value is wrong (see
    CORRUPTIONS); the true fields are then the same as without it, only ``printed`` and
    ``corrupted`` differ."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if corrupt is not None and corrupt not in CORRUPTIONS:
        raise ValueError(f"corrupt must be one of {CORRUPTIONS} or None, not {corrupt!r}")
    # String seeds are hashed with SHA-512 by random.Random: stable across runs and machines.
    rng = random.Random(f"invoice:{kind}:{seed}")

    trade = rng.choice(list(_TRADES))
    seller = _party(rng, trade)
    buyer = _party(rng, rng.choice(_BUYER_TRADES), avoid=seller.name)
    province_short, province = seller.city[1], seller.city[2]

    if kind == "fully_digital":
        first, last = datetime.date(2023, 1, 1), datetime.date(2025, 12, 31)
    else:
        first, last = datetime.date(2017, 1, 1), datetime.date(2023, 12, 31)
    issued = first + datetime.timedelta(days=rng.randint(0, (last - first).days))
    year_digits = f"{issued.year % 100:02d}"
    region = seller.city[3][:2]

    if kind == "fully_digital":
        title = FULLY_DIGITAL_TITLE
        code = check = machine = None
        # YY + province + 7 + a 15-digit sequence (26427000000145889304 on a real one).
        number = year_digits + region + "7" + f"{rng.randint(10**8, 10**10 - 1):015d}"
    else:
        title = f"{province_short}增值税电子普通发票"
        # 0 + province + 00 + the code's year (issue year or the one before) + 00 + batch + 11/12.
        code_year = f"{(issued.year - rng.randint(0, 1)) % 100:02d}"
        code = f"0{region}00{code_year}00{rng.randint(1, 4)}{rng.choice(('11', '12'))}"
        number = _digits(rng, 8)
        check = _digits(rng, 20)
        machine = rng.choice(("499", "661")) + _digits(rng, 9)

    items, models, units = _line_items(rng, _TRADES[trade])
    pretax_fen = sum(_fen(item["amount"]) for item in items)
    tax_fen = sum(_fen(item["tax"]) for item in items)
    pretax, tax, total = _yuan(pretax_fen), _yuan(tax_fen), _yuan(pretax_fen + tax_fen)
    yuan_char, jiao_zheng = words_style(kind, issued.year)
    words = amount_in_words(total, yuan=yuan_char, jiao_zheng=jiao_zheng)
    mark = f"{rng.getrandbits(16):04X}"
    mark = mark.lower() if kind == "fully_digital" else mark
    qr = _qr_payload(kind, code, number, _qr_amount(kind, pretax, total), issued.isoformat(), check, mark)

    after_merge = issued >= datetime.date(2018, 7, 1)  # the state and local tax bureaus merged in 2018
    stamp = (
        ("全国统一发票监制章", "国家税务总局", f"{province}税务局")
        if after_merge
        else ("全国统一发票监制章", province_short, "国家税务局监制")
    )
    coded = kind != "fully_digital"
    page = PageDetails(
        province=province_short,
        supervision_stamp=stamp,
        category="成品油" if trade == "能源" else "",
        buyer_address_phone=_address_phone(rng, buyer) if coded and rng.random() < 0.6 else "",
        buyer_bank_account=_bank_account(rng, buyer) if coded and rng.random() < 0.5 else "",
        seller_address_phone=_address_phone(rng, seller) if coded else "",
        seller_bank_account=_bank_account(rng, seller) if coded else "",
        cipher=["".join(rng.choice(_CIPHER_CHARS) for _ in range(28)) for _ in range(4)] if coded else [],
        payee=_person(rng),
        reviewer=_person(rng),
        drawer=_person(rng),
        remarks=rng.choice(("", "", "汇总开具", f"订单号：{_digits(rng, 12)}")),
        item_models=models,
        item_units=units,
    )
    spec = InvoiceSpec(
        seed=seed,
        kind=kind,
        title=title,
        invoice_code=code,
        invoice_number=number,
        issue_date=issued.isoformat(),
        check_code=check,
        machine_number=machine,
        buyer_name=buyer.name,
        buyer_tax_id=buyer.tax_id,
        seller_name=seller.name,
        seller_tax_id=seller.tax_id,
        amount_pretax=pretax,
        tax=tax,
        total=total,
        total_in_words=words,
        line_items=items,
        qr=qr,
        page=page,
    )
    spec.printed = {**spec.fields(), "qr": qr}
    del spec.printed["kind"]
    if corrupt is not None:
        # Its own generator, so the true invoice is the same with and without corruption.
        spec.corrupted = _corrupt(spec, corrupt, random.Random(f"corrupt:{kind}:{seed}:{corrupt}"))
        spec.printed[spec.corrupted.field] = spec.corrupted.printed
    return spec


def _corrupt(spec: InvoiceSpec, corrupt: str, rng: random.Random) -> Corruption:
    if corrupt == "tax_id":
        true = spec.seller_tax_id
        # Not the leading 91 (a reader would hardly misread those); any other change of one
        # character moves the weighted sum by a non-multiple of 31, so the check must fail.
        position = rng.randint(2, 17)
        pool = "0123456789" if true[position].isdigit() else USCC_ALPHABET[10:]
        replacement = rng.choice([ch for ch in pool if ch != true[position]])
        printed = true[:position] + replacement + true[position + 1 :]
        how = f"character {position + 1} of the seller's tax ID printed {replacement} instead of {true[position]}"
        return Corruption(corrupt, "seller_tax_id", true, printed, how)
    if corrupt == "sum":
        step = rng.choice((-1, 1)) if _fen(spec.tax) > 0 else 1
        printed = _yuan(_fen(spec.tax) + step)
        how = f"合计税额 printed {printed} instead of {spec.tax}: {spec.amount_pretax} + {printed} != {spec.total}"
        return Corruption(corrupt, "tax", spec.tax, printed, how)
    if corrupt == "words":
        total_fen = _fen(spec.total)
        deltas = [delta for delta in (-10000, -1000, -100, -10, -1, 1, 10, 100, 1000) if total_fen + delta > 0]
        other = _yuan(total_fen + rng.choice(deltas))
        yuan_char, jiao_zheng = words_style(spec.kind, int(spec.issue_date[:4]))
        printed = amount_in_words(other, yuan=yuan_char, jiao_zheng=jiao_zheng)
        how = f"价税合计（大写） printed for {other} while （小写） is {spec.total}"
        return Corruption(corrupt, "total_in_words", spec.total_in_words, printed, how)
    # "qr": one digit of the invoice number changed inside the QR payload only; for the fully
    # digital kind past the year and province digits, so the number still looks well formed.
    number = spec.invoice_number
    position = rng.randint(5 if spec.kind == "fully_digital" else 0, len(number) - 1)
    digit = rng.choice([ch for ch in "0123456789" if ch != number[position]])
    other = number[:position] + digit + number[position + 1 :]
    printed = spec.qr.replace(f",{number},", f",{other},", 1)
    how = f"the QR carries invoice number {other}, the page prints {number}"
    return Corruption(corrupt, "qr", spec.qr, printed, how)


# ---------------------------------------------------------------------------------------------
# Drawing

_MM = 72.0 / 25.4
_BLACK = (0.0, 0.0, 0.0)
_STAMP_RED = (0.86, 0.08, 0.08)
# Form ink: the fully digital form is printed in dark red, the coded one in brown.
_INK = {"fully_digital": (0.62, 0.12, 0.12), "vat_electronic_normal": (0.62, 0.38, 0.12)}
_ZH, _MONO = "zh", "mono"


@functools.cache
def _font(name: str) -> pymupdf.Font:
    # "cjk" is the Droid Sans Fallback that ships inside PyMuPDF (embeddable, unlike the base-14
    # "china-s", which viewers substitute); "cour" is its built-in Courier, used for tax IDs.
    return pymupdf.Font(name)


class _Canvas:
    """Millimetre coordinates (origin top left) on one PyMuPDF page.

    Text goes through one TextWriter per colour, which embeds the Font objects as they are:
    page.insert_text would measure every glyph of the 3.5 MB CJK font for each document (about a
    second per page). ``finish`` writes the text; nothing drawn after it covers the text."""

    def __init__(self, page: pymupdf.Page, ink: tuple[float, float, float]) -> None:
        self.page = page
        self.ink = ink
        self.writers: dict[tuple[float, float, float], pymupdf.TextWriter] = {}

    @staticmethod
    def width(text: str, size: float, font: str = _ZH) -> float:
        return _font("cjk" if font == _ZH else "cour").text_length(text, fontsize=size) / _MM

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 9.0,
        color: tuple[float, float, float] = _BLACK,
        font: str = _ZH,
        align: str = "left",
    ) -> float:
        """Draw ``text`` with its baseline at ``y``; ``x`` is its left, centre or right end. Returns its right end."""
        if not text:
            return x
        width = self.width(text, size, font)
        left = x - width / 2 if align == "center" else x - width if align == "right" else x
        writer = self.writers.get(color)
        if writer is None:
            writer = self.writers[color] = pymupdf.TextWriter(self.page.rect, color=color)
        writer.append((left * _MM, y * _MM), text, font=_font("cjk" if font == _ZH else "cour"), fontsize=size)
        return left + width

    def finish(self) -> None:
        for writer in self.writers.values():
            writer.write_text(self.page)
        self.writers.clear()

    def label(self, x: float, y: float, text: str, size: float = 9.0, align: str = "left") -> float:
        return self.text(x, y, text, size=size, color=self.ink, align=align)

    def vertical(self, x: float, top: float, bottom: float, text: str, size: float = 9.5) -> None:
        """Stacked characters centred on ``x``, spread between ``top`` and ``bottom`` (购买方信息)."""
        step = (bottom - top) / len(text)
        for index, char in enumerate(text):
            self.label(x, top + step * (index + 0.5) + size * 0.35 / _MM, char, size, align="center")

    def line(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.6) -> None:
        self.page.draw_line((x0 * _MM, y0 * _MM), (x1 * _MM, y1 * _MM), color=self.ink, width=width)

    def box(self, x0: float, y0: float, x1: float, y1: float, width: float = 0.9) -> None:
        self.page.draw_rect(pymupdf.Rect(x0 * _MM, y0 * _MM, x1 * _MM, y1 * _MM), color=self.ink, width=width)

    def image(self, x0: float, y0: float, x1: float, y1: float, png: bytes) -> None:
        self.page.insert_image(pymupdf.Rect(x0 * _MM, y0 * _MM, x1 * _MM, y1 * _MM), stream=png)


def _wrap(text: str, size: float, width_mm: float) -> list[str]:
    """Break ``text`` into lines no wider than ``width_mm`` (long item names wrap on real forms)."""
    lines = [""]
    for char in text:
        if lines[-1] and _Canvas.width(lines[-1] + char, size) > width_mm:
            lines.append("")
        lines[-1] += char
    return lines


def _qr_png(payload: str) -> bytes:
    modules = cv2.QRCodeEncoder.create().encode(payload)  # one pixel per module, quiet zone included
    # Whole pixels per module so the image stays sharp wherever it is scaled to.
    scaled = cv2.resize(modules, None, fx=8, fy=8, interpolation=cv2.INTER_NEAREST)
    ok, encoded = cv2.imencode(".png", scaled)
    if not ok:
        raise RuntimeError("could not encode the QR image")
    return encoded.tobytes()


@functools.cache
def _stamp_png(width_mm: float, height_mm: float, arc: str, middle: str, bottom: str, middle_mono: bool) -> bytes:
    """A red oval stamp as a transparent PNG. Drawn on a page of its own and inserted as an image,
    so its words are on the page but not in the text layer, as with stamps on real PDFs."""
    doc = pymupdf.open()
    page = doc.new_page(width=width_mm * _MM, height=height_mm * _MM)
    border = 0.6 * _MM
    oval = pymupdf.Rect(border, border, width_mm * _MM - border, height_mm * _MM - border)
    page.draw_oval(oval, color=_STAMP_RED, width=border * 1.4)
    cx, cy = width_mm * _MM / 2, height_mm * _MM / 2
    zh = _font("cjk")
    # Characters along the upper arc at equal distances, each turned so that its top points away
    # from the centre; the size is what the arc leaves per character.
    span = min(220.0, 24.0 * len(arc))
    inset = border * 2.5
    steps = 256
    angles = [270.0 - span / 2 + span * step / steps for step in range(steps + 1)]
    rx, ry = cx - inset, cy - inset
    points = [(rx * math.cos(math.radians(angle)), ry * math.sin(math.radians(angle))) for angle in angles]
    lengths = [0.0]
    for index in range(steps):
        lengths.append(lengths[-1] + math.dist(points[index], points[index + 1]))
    size = min(3.6 * _MM, 0.72 * lengths[-1] / max(len(arc), 1))
    rx, ry = rx - size * 0.55, ry - size * 0.55
    for index, char in enumerate(arc):
        target = lengths[-1] * (index + 0.5) / len(arc)
        step = min(range(steps + 1), key=lambda candidate: abs(lengths[candidate] - target))
        theta = angles[step]
        px = cx + rx * math.cos(math.radians(theta))
        py = cy + ry * math.sin(math.radians(theta))
        writer = pymupdf.TextWriter(page.rect, color=_STAMP_RED)
        writer.append((px - zh.text_length(char, fontsize=size) / 2, py + size * 0.38), char, font=zh, fontsize=size)
        writer.write_text(page, morph=(pymupdf.Point(px, py), pymupdf.Matrix(270.0 - theta)))
    writer = pymupdf.TextWriter(page.rect, color=_STAMP_RED)
    lines = (
        (middle, cy + 1.2 * _MM, "cour" if middle_mono else "cjk", 0.58 if middle_mono else 0.5),
        (bottom, cy + height_mm * 0.32 * _MM, "cjk", 0.5),
    )
    for text, y, font_name, fraction in lines:
        if text:
            font = _font(font_name)
            fit = min(3.2 * _MM, fraction * width_mm * _MM / font.text_length(text, fontsize=1.0))
            writer.append((cx - font.text_length(text, fontsize=fit) / 2, y), text, font=font, fontsize=fit)
    writer.write_text(page)
    png = page.get_pixmap(dpi=300, alpha=True).tobytes("png")
    doc.close()
    return png


def _page_value(name: str, value: str) -> str:
    """A printed field as the page writes it: dates as 年月日, the check code in groups of five."""
    if name == "issue_date":
        year, month, day = value.split("-")
        return f"{year}年{month}月{day}日"
    if name == "check_code":
        return " ".join(value[index : index + 5] for index in range(0, len(value), 5))
    return value


def page_text(spec: InvoiceSpec, name: str) -> str | None:
    """How the printed field ``name`` appears on the page (None when the kind prints no such field)."""
    value = spec.printed.get(name)
    return None if value is None else _page_value(name, value)


def _draw_header(canvas: _Canvas, spec: InvoiceSpec, qr_box: tuple[float, float, float], title_y: float) -> None:
    x, y, side = qr_box
    canvas.image(x, y, x + side, y + side, _qr_png(spec.printed["qr"]))
    assert spec.page is not None
    if spec.page.category:
        canvas.text(x + side + 4, y + side / 2 + 2, spec.page.category, size=13)
    canvas.text(PAGE_WIDTH_MM / 2, title_y, spec.title, size=21, color=canvas.ink, align="center")
    half = canvas.width(spec.title, 21) / 2 + 1.5
    canvas.line(PAGE_WIDTH_MM / 2 - half, title_y + 4.0, PAGE_WIDTH_MM / 2 + half, title_y + 4.0, 0.5)
    canvas.line(PAGE_WIDTH_MM / 2 - half, title_y + 4.8, PAGE_WIDTH_MM / 2 + half, title_y + 4.8, 0.5)


def _draw_items(
    canvas: _Canvas, spec: InvoiceSpec, columns: list[tuple[float, float, str, str]], header_y: float, first_y: float
) -> None:
    """The line-item rows under ``columns`` (left, right, header, alignment), names wrapped."""
    assert spec.page is not None
    for left, right, header, _ in columns:
        canvas.label((left + right) / 2, header_y, header, 9.5, align="center")
    y = first_y
    for index, item in enumerate(spec.printed["line_items"]):
        cells = (
            item["name"],
            spec.page.item_models[index],
            spec.page.item_units[index],
            item["quantity"],
            item["unit_price"],
            item["amount"],
            item["tax_rate"],
            item["tax"],
        )
        name_left, name_right = columns[0][0], columns[0][1]
        lines = _wrap(cells[0], 9, name_right - name_left - 3.0)
        for number, line in enumerate(lines):
            canvas.text(name_left + 1, y + 4.0 * number, line)
        for (left, right, _, align), cell in zip(columns[1:], cells[1:], strict=True):
            anchor = left + 1 if align == "left" else right - 1 if align == "right" else (left + right) / 2
            canvas.text(anchor, y, cell, align=align)
        y += 4.0 * len(lines) + 0.8


def _draw_fully_digital(canvas: _Canvas, spec: InvoiceSpec) -> None:
    printed, page = spec.printed, spec.page
    assert page is not None
    _draw_header(canvas, spec, (10.0, 5.0, 21.0), 14.0)
    for y, label, name in ((12.0, "发票号码：", "invoice_number"), (19.0, "开票日期：", "issue_date")):
        end = canvas.label(166.0, y, label, 10)
        canvas.text(end, y, _page_value(name, printed[name]), size=10.5)

    left, right, top, parties_bottom, items_bottom, total_bottom, bottom = 8.0, 232.0, 29.0, 49.0, 97.0, 105.0, 118.0
    canvas.box(left, top, right, bottom)
    canvas.line(left, parties_bottom, right, parties_bottom)
    canvas.line(left, items_bottom, right, items_bottom)
    canvas.line(left, total_bottom, right, total_bottom)
    middle = (left + right) / 2
    for x0, label, name_key, id_key in (
        (left, "购买方信息", "buyer_name", "buyer_tax_id"),
        (middle, "销售方信息", "seller_name", "seller_tax_id"),
    ):
        canvas.line(x0 + 6, top, x0 + 6, parties_bottom)
        canvas.vertical(x0 + 3, top + 1, parties_bottom - 1, label)
        end = canvas.label(x0 + 8, top + 7.5, "名称：")
        canvas.text(end, top + 7.5, printed[name_key], size=10.5)
        end = canvas.label(x0 + 8, top + 15.5, "统一社会信用代码/纳税人识别号：", 8.5)
        canvas.text(end + 0.5, top + 15.8, printed[id_key], size=11.5, font=_MONO)
    canvas.line(middle, top, middle, parties_bottom)

    columns = [
        (left, 60.0, "项目名称", "left"),
        (60.0, 84.0, "规格型号", "left"),
        (84.0, 97.0, "单 位", "center"),
        (97.0, 127.0, "数 量", "right"),
        (127.0, 160.0, "单 价", "right"),
        (160.0, 186.0, "金 额", "right"),
        (186.0, 206.0, "税率/征收率", "center"),
        (206.0, right, "税 额", "right"),
    ]
    _draw_items(canvas, spec, columns, parties_bottom + 4.0, parties_bottom + 8.5)
    canvas.label(34.0, items_bottom - 2.0, "合          计", 9.5, align="center")
    canvas.text(185.0, items_bottom - 2.0, "¥" + printed["amount_pretax"], align="right")
    canvas.text(231.0, items_bottom - 2.0, "¥" + printed["tax"], align="right")

    canvas.line(62.0, items_bottom, 62.0, total_bottom)
    canvas.label(35.0, total_bottom - 2.5, "价税合计（大写）", 9.5, align="center")
    canvas.text(64.0, total_bottom - 2.5, "⊗ " + printed["total_in_words"], size=10.5)
    end = canvas.label(168.0, total_bottom - 2.5, "（小写）", 9.5)
    canvas.text(end + 1, total_bottom - 2.5, "¥" + printed["total"], size=10.5)

    canvas.line(left + 6, total_bottom, left + 6, bottom)
    canvas.vertical(left + 3, total_bottom + 1, bottom - 1, "备注")
    canvas.text(left + 8, total_bottom + 5.0, f"收款人：{page.payee}；    复核人：{page.reviewer}；")
    if page.remarks:
        canvas.text(left + 8, total_bottom + 10.0, page.remarks)
    end = canvas.label(24.0, bottom + 9.0, "开票人：", 10)
    canvas.text(end, bottom + 9.0, page.drawer, size=10)


def _draw_party_block(
    canvas: _Canvas, x0: float, top: float, label: str, name: str, tax_id: str, address: str, bank: str
) -> None:
    """The coded form's four-line party block (名称, 纳税人识别号, 地址、电话, 开户行及账号)."""
    canvas.line(x0 + 6, top, x0 + 6, top + 20)
    canvas.vertical(x0 + 3, top + 1, top + 19, label, 10)
    rows = (
        ("名        称：", name, _ZH),
        ("纳税人识别号：", tax_id, _MONO),
        ("地 址、电 话：", address, _ZH),
        ("开户行及账号：", bank, _ZH),
    )
    for index, (row_label, value, font) in enumerate(rows):
        y = top + 4.3 + 4.6 * index
        end = canvas.label(x0 + 8, y, row_label, 9.5)
        canvas.text(end + 0.5, y, value, size=11.5 if font == _MONO else 9.5 if index >= 2 else 10.5, font=font)


def _draw_coded(canvas: _Canvas, spec: InvoiceSpec) -> None:
    printed, page = spec.printed, spec.page
    assert page is not None
    _draw_header(canvas, spec, (10.0, 3.0, 19.0), 13.0)
    end = canvas.label(9.0, 26.5, "机器编号：", 9.5)
    canvas.text(end, 26.5, printed["machine_number"], size=10)
    header = (
        (8.5, "发票代码：", "invoice_code"),
        (14.0, "发票号码：", "invoice_number"),
        (19.5, "开票日期：", "issue_date"),
        (25.0, "校 验 码：", "check_code"),
    )
    for y, label, name in header:
        end = canvas.label(166.0, y, label, 9.5)
        canvas.text(end, y, _page_value(name, printed[name]), size=10)

    left, right, top = 8.0, 232.0, 29.5
    buyer_bottom, items_bottom, total_bottom, bottom = top + 20, 95.5, 103.0, 123.0
    canvas.box(left, top, right, bottom)
    for y in (buyer_bottom, items_bottom, total_bottom):
        canvas.line(left, y, right, y)
    _draw_party_block(
        canvas,
        left,
        top,
        "购买方",
        printed["buyer_name"],
        printed["buyer_tax_id"],
        page.buyer_address_phone,
        page.buyer_bank_account,
    )
    _draw_party_block(
        canvas,
        left,
        total_bottom,
        "销售方",
        printed["seller_name"],
        printed["seller_tax_id"],
        page.seller_address_phone,
        page.seller_bank_account,
    )
    for y0, y1, label in ((top, buyer_bottom, "密码区"), (total_bottom, bottom, "备注")):
        canvas.line(148.0, y0, 148.0, y1)
        canvas.line(154.0, y0, 154.0, y1)
        canvas.vertical(151.0, y0 + 1, y1 - 1, label, 10)
    for index, line in enumerate(page.cipher):
        canvas.text(157.0, top + 4.6 + 4.6 * index, line, size=10.5, font=_MONO)
    if page.remarks:
        canvas.text(156.0, total_bottom + 5.0, page.remarks)

    columns = [
        (left, 62.0, "货物或应税劳务、服务名称", "left"),
        (62.0, 86.0, "规格型号", "left"),
        (86.0, 98.0, "单位", "center"),
        (98.0, 120.0, "数 量", "right"),
        (120.0, 146.0, "单 价", "right"),
        (146.0, 180.0, "金 额", "right"),
        (180.0, 192.0, "税率", "center"),
        (192.0, right, "税 额", "right"),
    ]
    for column_left, _, _, _ in columns[1:]:
        canvas.line(column_left, buyer_bottom, column_left, items_bottom, 0.5)
    _draw_items(canvas, spec, columns, buyer_bottom + 4.0, buyer_bottom + 8.5)
    canvas.label(35.0, items_bottom - 2.0, "合          计", 9.5, align="center")
    canvas.text(179.0, items_bottom - 2.0, "¥" + printed["amount_pretax"], align="right")
    canvas.text(231.0, items_bottom - 2.0, "¥" + printed["tax"], align="right")

    canvas.line(62.0, items_bottom, 62.0, total_bottom)
    canvas.label(35.0, total_bottom - 2.3, "价税合计（大写）", 9.5, align="center")
    canvas.text(64.0, total_bottom - 2.3, "⊗ " + printed["total_in_words"], size=10.5)
    end = canvas.label(168.0, total_bottom - 2.3, "（小写）", 9.5)
    canvas.text(end + 4, total_bottom - 2.3, "¥" + printed["total"], size=10.5)

    footer = (
        (12.0, "收 款 人：", page.payee),
        (75.0, "复 核：", page.reviewer),
        (135.0, "开 票 人：", page.drawer),
        (190.0, "销 售 方：（章）", ""),
    )
    for x, label, value in footer:
        end = canvas.label(x, bottom + 6.0, label, 9.5)
        canvas.text(end + 1, bottom + 6.0, value, size=10)


def _build(spec: InvoiceSpec, stamps: bool) -> pymupdf.Document:
    assert spec.page is not None
    doc = pymupdf.open()
    doc.set_metadata({})  # no creation date: the same spec must give the same bytes
    page = doc.new_page(width=PAGE_WIDTH_MM * _MM, height=PAGE_HEIGHT_MM * _MM)
    canvas = _Canvas(page, _INK[spec.kind])
    if spec.kind == "fully_digital":
        _draw_fully_digital(canvas, spec)
    else:
        _draw_coded(canvas, spec)
    canvas.finish()
    if stamps:
        # The supervision stamp over the title, as on every real form; the coded form also
        # carries the seller's 发票专用章 (with the tax ID as printed) over 备注 and the frame.
        arc, middle, bottom = spec.page.supervision_stamp
        canvas.image(105.0, 6.0, 135.0, 26.0, _stamp_png(30.0, 20.0, arc, middle, bottom, False))
        if spec.kind != "fully_digital":
            seal = _stamp_png(
                40.0, 27.0, spec.printed["seller_name"], spec.printed["seller_tax_id"], "发票专用章", True
            )
            canvas.image(183.0, 104.0, 223.0, 131.0, seal)
    return doc


def render_png(spec: InvoiceSpec, dpi: int = 200, *, stamps: bool = True) -> bytes:
    """The invoice page as an RGB PNG at ``dpi`` (200 dpi: 1890 x 1103 px; MuPDF rounds the pixel box outward)."""
    doc = _build(spec, stamps)
    try:
        return doc[0].get_pixmap(dpi=dpi, alpha=False).tobytes("png")
    finally:
        doc.close()


def render_pdf(spec: InvoiceSpec, text_layer: bool = True, *, stamps: bool = True, dpi: int = 200) -> bytes:
    """The invoice as a one-page PDF: vector text in embedded (subset) fonts, so ``get_text()``
    gives the printed text back, or with ``text_layer=False`` the page as one image at ``dpi``,
    like a scanned PDF."""
    doc = _build(spec, stamps)
    try:
        if text_layer:
            doc.subset_fonts()
            return doc.tobytes(garbage=3, deflate=True, no_new_id=True)
        image = doc[0].get_pixmap(dpi=dpi, alpha=False).tobytes("png")
    finally:
        doc.close()
    scan = pymupdf.open()
    try:
        scan.set_metadata({})
        page = scan.new_page(width=PAGE_WIDTH_MM * _MM, height=PAGE_HEIGHT_MM * _MM)
        page.insert_image(page.rect, stream=image)
        return scan.tobytes(garbage=3, deflate=True, no_new_id=True)
    finally:
        scan.close()


def degrade(png: bytes, seed: int) -> bytes:
    """A scan-like JPEG of an image: grayscale, turned by up to ±1.5°, slightly blurred, quality 60."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ValueError("not an image")
    rng = np.random.default_rng(seed)
    angle = float(rng.uniform(-1.5, 1.5))
    height, width = image.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    image = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=255)
    image = cv2.GaussianBlur(image, (0, 0), float(rng.uniform(0.6, 1.1)))
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 60])
    if not ok:
        raise RuntimeError("could not encode the JPEG")
    return encoded.tobytes()

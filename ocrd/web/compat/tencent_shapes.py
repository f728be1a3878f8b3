"""ocrd's results in the shapes of Tencent Cloud OCR's responses (tencentcloud.ocr.v20181119.models).

Only what ocrd knows is filled in: a line's text, confidence and corners (TextDetection), a page's
turn (Angle), a PDF's page count (PdfPageSize), and an invoice's fields under the Chinese names
Tencent uses (VatInvoiceInfos, Items). ocrd has no per-character boxes, so Words and
WordCoordPoint are never sent.
"""

from __future__ import annotations

import json
from typing import Any

from ocrd.fields.model import FieldValue
from ocrd.result import Document
from ocrd.web.compat.lines import PlainLine, invoice_kind, plain_lines

GENERAL_LANGUAGE = "zh"  # Tencent's default LanguageType: Chinese mixed with English, what ocrd reads

# ocrd's header fields under the names Tencent's VatInvoiceOCR gives them, in Tencent's order.
VAT_NAMES: tuple[tuple[str, str], ...] = (
    ("发票代码", "invoice_code"),
    ("发票号码", "invoice_number"),
    ("开票日期", "issue_date"),
    ("校验码", "check_code"),
    ("机器编号", "machine_number"),
    ("购买方名称", "buyer_name"),
    ("购买方识别号", "buyer_tax_id"),
    ("销售方名称", "seller_name"),
    ("销售方识别号", "seller_tax_id"),
    ("合计金额", "amount_pretax"),
    ("合计税额", "tax"),
    ("价税合计(大写)", "total_in_words"),
    ("小写金额", "total"),
)
# Tencent prints amounts as on the invoice, with the yuan sign.
YUAN_FIELDS = frozenset({"amount_pretax", "tax", "total"})
# ocrd's kinds as Tencent's 发票类型 and the usual printed title (发票名称) when none was read.
KIND_NAMES: dict[str, tuple[str, str]] = {
    "vat_special": ("专用发票", "增值税专用发票"),
    "vat_normal": ("普通发票", "增值税普通发票"),
    "vat_electronic_special": ("电子专用发票", "增值税电子专用发票"),
    "vat_electronic_normal": ("电子普通发票", "增值税电子普通发票"),
    "fully_digital": ("全电发票", "电子发票"),
}
# Line-item keys (ocrd.fields.model.LINE_ITEM_KEYS) as VatInvoiceItem fields and as VatInvoiceInfos names.
ITEM_KEYS: tuple[tuple[str, str, str], ...] = (
    ("name", "Name", "货物或应税劳务、服务名称"),
    ("spec", "Spec", "规格型号"),
    ("unit", "Unit", "单位"),
    ("quantity", "Quantity", "数量"),
    ("unit_price", "UnitPrice", "单价"),
    ("amount", "AmountWithoutTax", "金额"),
    ("tax_rate", "TaxRate", "税率"),
    ("tax", "TaxAmount", "税额"),
)
TITLE_LINES = 6  # the invoice's title is among the first lines read


def tencent_angle(rotation: int) -> float:
    """ocrd's clockwise turn that made the page readable, as Tencent's angle of the text (clockwise positive)."""
    angle = -rotation % 360
    return float(angle - 360 if angle > 180 else angle)


def page_angle(document: Document) -> float:
    return tencent_angle(document.pages[0].rotation) if document.pages else 0.0


def coord(x: float, y: float) -> dict[str, int]:
    return {"X": round(x), "Y": round(y)}


def text_detection(line: PlainLine, number: int) -> dict[str, Any]:
    x, y, width, height = line.rect
    return {
        "DetectedText": line.text,
        "Confidence": max(0, min(100, round(line.confidence * 100))),
        "Polygon": [coord(px, py) for px, py in line.points],
        # Tencent numbers paragraphs here; ocrd reads lines, so each line is its own paragraph.
        "AdvancedInfo": json.dumps({"Parag": {"ParagNo": number}}, separators=(",", ":")),
        "ItemPolygon": {"X": x, "Y": y, "Width": width, "Height": height},
    }


def text_detections(document: Document) -> list[dict[str, Any]]:
    return [text_detection(line, number) for number, line in enumerate(plain_lines(document), start=1)]


def polygon(box: list[list[float]] | None) -> dict[str, dict[str, int]] | None:
    if not box or len(box) != 4:
        return None
    corners = ("LeftTop", "RightTop", "RightBottom", "LeftBottom")
    return {name: coord(x, y) for name, (x, y) in zip(corners, box, strict=True)}


def tencent_date(iso: str) -> str:
    """2021-01-01 as Tencent prints it: 2021年01月01日 (anything else is passed on as read)."""
    parts = iso.split("-")
    if len(parts) == 3 and all(part.isdigit() for part in parts):
        return f"{parts[0]}年{parts[1]}月{parts[2]}日"
    return iso


def field_text(name: str, item: FieldValue | None) -> str:
    if item is None or item.value is None or isinstance(item.value, list | dict):
        return ""
    value = str(item.value)
    if name == "issue_date":
        return tencent_date(value)
    if name in YUAN_FIELDS:
        return "¥" + value
    return value


def invoice_title(document: Document) -> str | None:
    """The printed title (e.g. 增值税电子普通发票), when one of the first lines is it."""
    for line in plain_lines(document)[:TITLE_LINES]:
        text = line.text.strip()
        if text.endswith(("发票", "发票)", "发票）")) and len(text) <= 24:
            return text
    return None


def line_items(document: Document) -> list[dict[str, str]]:
    if document.fields is None:
        return []
    item = document.fields.values.get("line_items")
    if item is None or not isinstance(item.value, list):
        return []
    return [entry for entry in item.value if isinstance(entry, dict)]


def vat_invoice_infos(document: Document) -> list[dict[str, Any]]:
    """The fields read, under Tencent's names and in its order, then the line items; unread fields are left out."""
    values = {} if document.fields is None else document.fields.values
    infos = [
        {"Name": tencent, "Value": text, "Polygon": polygon(_box(values.get(ours)))}
        for tencent, ours in VAT_NAMES
        if (text := field_text(ours, values.get(ours)))
    ]
    kind_type, kind_title = KIND_NAMES.get(invoice_kind(document) or "", ("", ""))
    title = invoice_title(document) or kind_title
    infos += [
        {"Name": name, "Value": value, "Polygon": None}
        for name, value in (("发票类型", kind_type), ("发票名称", title))
        if value
    ]
    for entry in line_items(document):
        for key, _, tencent in ITEM_KEYS:
            if entry.get(key) is not None:
                infos.append({"Name": tencent, "Value": str(entry[key]), "Polygon": None})
    return infos


def vat_items(document: Document) -> list[dict[str, str]]:
    return [
        {"LineNo": str(number)}
        | {field: "" if entry.get(key) is None else str(entry[key]) for key, field, _ in ITEM_KEYS}
        for number, entry in enumerate(line_items(document), start=1)
    ]


def _box(item: FieldValue | None) -> list[list[float]] | None:
    return None if item is None else item.box

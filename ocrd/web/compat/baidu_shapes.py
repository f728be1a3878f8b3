"""ocrd's results and problems in the shapes Baidu AI OCR answers with.

General OCR: ``{"log_id", "words_result_num", "words_result": [{"words", "location"?,
"vertexes_location"?, "probability"?}], "direction"?, "pdf_file_size"?, "paragraphs_result"?}``.
VAT invoices: ``words_result`` is an object of Baidu's field names, row lists for the goods.
Errors: ``{"log_id", "error_code", "error_msg"}``, always with HTTP 200, as Baidu does.
"""

from __future__ import annotations

import re
import secrets
import statistics
from typing import Any

from ocrd.result import Document
from ocrd.web.compat import problems as p
from ocrd.web.compat.lines import PlainLine, field_values, invoice_kind, plain_lines

# Baidu's documented error codes and their error_msg words.
TOKEN_INVALID = (110, "Access token invalid or no longer valid")
TOKEN_EXPIRED = (111, "Access token expired")
IAM_FAILED = (14, "IAM Certification failed")
QPS_LIMIT = (18, "Open api qps request limit reached")
UNSUPPORTED_METHOD = (3, "Unsupported openapi method")
INVALID_PARAM = (216100, "invalid param")
NOT_ENOUGH_PARAM = (216101, "not enough param")
SERVICE_NOT_SUPPORT = (216102, "service not support")
URL_FORMAT = (282111, "url format illegal")
EMPTY_IMAGE = (216200, "empty image")
IMAGE_FORMAT = (216201, "image format error")
IMAGE_SIZE = (216202, "image size error")
TARGET_RECOGNIZE = (282103, "target recognize error")
INTERNAL_ERROR = (282000, "internal error")

# Each vendor-neutral problem kind as the one Baidu error a client of Baidu handles the same way.
BY_KIND: dict[str, tuple[int, str]] = {
    p.AUTH_MISSING: TOKEN_INVALID,
    p.AUTH_UNKNOWN_KEY: TOKEN_INVALID,
    p.AUTH_SIGNATURE: IAM_FAILED,
    p.AUTH_EXPIRED: TOKEN_EXPIRED,
    p.BAD_REQUEST: INVALID_PARAM,
    p.UNKNOWN_ACTION: SERVICE_NOT_SUPPORT,
    p.URL_REFUSED: URL_FORMAT,  # Baidu's error for an image URL it cannot use (docs/compat.md: "bad URL")
    p.IMAGE_EMPTY: EMPTY_IMAGE,
    p.IMAGE_DECODE: IMAGE_FORMAT,
    p.IMAGE_TOO_LARGE: IMAGE_SIZE,
    p.PDF_PAGE: INVALID_PARAM,
    p.ENCRYPTED: IMAGE_FORMAT,
    p.BUSY: QPS_LIMIT,  # clients of Baidu back off and retry on the QPS limit
    p.TIMEOUT: INTERNAL_ERROR,  # Baidu's own answer when a page takes too long to read
    p.INTERNAL: INTERNAL_ERROR,
}
assert set(BY_KIND) == set(p.KINDS)

# rotation (clockwise degrees ocrd turned the page to read it) -> Baidu's direction
# (0 upright, 1 turned 90° counter-clockwise, 2 upside down, 3 turned 90° clockwise).
DIRECTION = {0: 0, 90: 1, 180: 2, 270: 3}


class BaiduError(Exception):
    """An answer in Baidu's error shape, for the cases that have a Baidu code of their own."""

    def __init__(self, error: tuple[int, str], detail: str = "") -> None:
        super().__init__(detail or error[1])
        self.code, self.words = error
        self.detail = detail


def log_id() -> int:
    return secrets.randbits(62)


def error_body(code: int, words: str, detail: str = "") -> dict[str, Any]:
    # Baidu's words first (clients compare them), ocrd's explanation after: what to change.
    return {"log_id": log_id(), "error_code": code, "error_msg": f"{words}: {detail}" if detail else words}


def for_problem(problem: p.CompatProblem) -> dict[str, Any]:
    code, words = BY_KIND[problem.kind]
    return error_body(code, words, problem.message)


def general(
    document: Document,
    *,
    locations: bool,
    vertexes: bool,
    probability: bool,
    direction: bool,
    paragraph: bool,
    pdf_file_size: int | None,
) -> dict[str, Any]:
    lines = plain_lines(document)
    words = [_word(line, locations=locations, vertexes=vertexes, probability=probability) for line in lines]
    body: dict[str, Any] = {"log_id": log_id()}
    if direction:
        rotation = document.pages[0].rotation if document.pages else 0
        body["direction"] = DIRECTION.get(rotation, -1)
    body |= {"words_result_num": len(words), "words_result": words}
    if paragraph:
        # ocrd does not group lines into paragraphs: each line is its own, so indexes stay right.
        body["paragraphs_result_num"] = len(words)
        body["paragraphs_result"] = [{"words_result_idx": [index]} for index in range(len(words))]
    if pdf_file_size is not None:
        body["pdf_file_size"] = str(pdf_file_size)
    return body


def _word(line: PlainLine, *, locations: bool, vertexes: bool, probability: bool) -> dict[str, Any]:
    item: dict[str, Any] = {"words": line.text}
    if locations:
        left, top, width, height = line.rect
        item["location"] = {"top": top, "left": left, "width": width, "height": height}
    if vertexes:
        item["vertexes_location"] = [{"x": x, "y": y} for x, y in line.points]
    if probability:
        item["probability"] = _probability([line.confidence])
    return item


def _probability(confidences: list[float]) -> dict[str, float]:
    return {
        "average": round(statistics.fmean(confidences), 6),
        "min": round(min(confidences), 6),
        "variance": round(statistics.pvariance(confidences), 6),
    }


# ocrd's invoice kind -> Baidu's InvoiceType words.
INVOICE_TYPES = {
    "vat_special": "专用发票",
    "vat_normal": "普通发票",
    "vat_electronic_special": "电子专用发票",
    "vat_electronic_normal": "电子普通发票",
}
# Baidu header keys filled from ocrd's fields; every other documented key is sent empty.
HEADER_KEYS = {
    "InvoiceCode": "invoice_code",
    "InvoiceNum": "invoice_number",
    "CheckCode": "check_code",
    "MachineCode": "machine_number",
    "PurchaserName": "buyer_name",
    "PurchaserRegisterNum": "buyer_tax_id",
    "SellerName": "seller_name",
    "SellerRegisterNum": "seller_tax_id",
    "TotalAmount": "amount_pretax",
    "TotalTax": "tax",
    "AmountInFiguers": "total",  # sic: Baidu's spelling
    "AmountInWords": "total_in_words",
}
EMPTY_KEYS = (
    "InvoiceTag", "SheetNum", "Province", "City", "ServiceType", "Agent", "OnlinePay", "Password", "Remarks",
    "PurchaserAddress", "PurchaserBank", "SellerAddress", "SellerBank", "Payee", "Checker", "NoteDrawer",
)  # fmt: skip
ROW_KEYS = {
    "CommodityName": "name",
    "CommodityType": None,  # 规格型号: not among ocrd's line item values
    "CommodityUnit": None,
    "CommodityNum": "quantity",
    "CommodityPrice": "unit_price",
    "CommodityAmount": "amount",
    "CommodityTaxRate": "tax_rate",
    "CommodityTax": "tax",
}
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
TITLE = re.compile(r"发票[）)]?$")


def vat_invoice(document: Document, *, pdf_file_size: int | None) -> dict[str, Any]:
    kind = invoice_kind(document)
    if kind is None or kind == "other":
        raise BaiduError(TARGET_RECOGNIZE, "no VAT invoice was recognised on the page")
    values = field_values(document)
    result: dict[str, Any] = {"InvoiceType": _invoice_type(kind, document), "InvoiceTypeOrg": _title(document)}
    result |= {key: values.get(name, "") for key, name in HEADER_KEYS.items()}
    # The printed and the machine-printed code/number are the same on the forms ocrd reads.
    result["InvoiceCodeConfirm"] = result["InvoiceCode"]
    result["InvoiceNumConfirm"] = result["InvoiceNum"]
    result["InvoiceDate"] = _baidu_date(values.get("issue_date", ""))
    result |= dict.fromkeys(EMPTY_KEYS, "")
    items = _line_items(document)
    for key, name in ROW_KEYS.items():
        result[key] = [
            {"row": str(row), "word": str(item.get(name) or "")}
            for row, item in enumerate(items, start=1)
            if name is not None
        ]
    body: dict[str, Any] = {"log_id": log_id(), "words_result_num": len(result), "words_result": result}
    if pdf_file_size is not None:
        body["pdf_file_size"] = str(pdf_file_size)
    return body


def _invoice_type(kind: str, document: Document) -> str:
    if kind in INVOICE_TYPES:
        return INVOICE_TYPES[kind]
    # fully_digital covers both 电子发票（普通发票） and 电子发票（增值税专用发票）: the title tells them apart.
    return "电子发票(专用发票)" if "专用发票" in _title(document) else "电子发票(普通发票)"


def _title(document: Document) -> str:
    """The printed title (e.g. 湖北增值税电子普通发票), the first line that ends in 发票."""
    for line in plain_lines(document)[:12]:
        text = re.sub(r"\s+", "", line.text)
        if TITLE.search(text) and len(text) <= 24:
            return text
    return ""


def _baidu_date(iso: str) -> str:
    match = ISO_DATE.match(iso)
    return f"{match[1]}年{match[2]}月{match[3]}日" if match else iso


def _line_items(document: Document) -> list[dict[str, Any]]:
    if document.fields is None or "line_items" not in document.fields.values:
        return []
    items = document.fields.values["line_items"].value
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

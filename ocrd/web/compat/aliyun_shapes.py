"""Aliyun OCR (ocr-api 2021-07-07) answers: its error codes and the shapes of its results.

Errors are HTTP 4xx/5xx with ``{"RequestId", "Code", "Message"}``; the codes and statuses are the
ones Aliyun documents (the OCR API's public error codes and the OpenAPI gateway's signature
errors), so client code that branches on ``e.code`` keeps working. Results are
``{"RequestId", "Data"}`` where ``Data`` is a JSON *string* for the recognise actions (the SDK's
models type it ``str``) and an object for RecognizeAllText.
"""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from aiohttp import web

from ocrd.fields.model import VAT_KINDS
from ocrd.result import Document, Page
from ocrd.web.compat import problems
from ocrd.web.compat.lines import PlainLine, field_values, invoice_kind, plain_lines
from ocrd.web.compat.problems import CompatProblem

PRISM_VERSION = "1.0.9"  # the version Aliyun's documented examples carry; clients may log it


class AliyunError(Exception):
    """An answer in Aliyun's error shape."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message


# Each problem kind as Aliyun words it: (HTTP status, Code).
_BY_KIND: dict[str, tuple[int, str]] = {
    problems.AUTH_MISSING: (400, "MissingAccessKeyId"),
    problems.AUTH_UNKNOWN_KEY: (404, "InvalidAccessKeyId.NotFound"),
    problems.AUTH_SIGNATURE: (400, "SignatureDoesNotMatch"),
    problems.AUTH_EXPIRED: (400, "InvalidTimeStamp.Expired"),
    problems.BAD_REQUEST: (400, "InvalidParameter"),
    problems.UNKNOWN_ACTION: (404, "InvalidAction.NotFound"),
    problems.URL_REFUSED: (400, "IllegalImageUrl"),
    problems.IMAGE_EMPTY: (400, "imageUrlOrBodyEmpty"),
    problems.IMAGE_DECODE: (415, "unsupportedImageFormat"),
    problems.IMAGE_TOO_LARGE: (413, "exceededImageContent"),
    # Aliyun turns the asked-for page into an image; a page that is not there fails that step.
    problems.PDF_PAGE: (400, "convertPDFToImgError"),
    problems.ENCRYPTED: (400, "illegalPDFContent"),
    problems.BUSY: (400, "Throttling.User"),  # Aliyun answers throttling with 400, not 429
    problems.TIMEOUT: (504, "ServiceTimeout"),
    problems.INTERNAL: (500, "InternalError"),
}


def error_for(problem: CompatProblem) -> AliyunError:
    status, code = _BY_KIND[problem.kind]
    return AliyunError(status, code, problem.message)


def unknown_key() -> AliyunError:
    return AliyunError(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")


def new_request_id() -> str:
    """A request id as Aliyun writes them: an upper-case UUID."""
    return str(uuid.uuid4()).upper()


def error_response(error: AliyunError, request_id: str) -> web.Response:
    body = {"RequestId": request_id, "Code": error.code, "Message": error.message}
    return _json(body, error.status, request_id)


def success_response(data: dict[str, Any], request_id: str, *, data_as_string: bool) -> web.Response:
    payload: Any = json.dumps(data, ensure_ascii=False, separators=(",", ":")) if data_as_string else data
    return _json({"RequestId": request_id, "Data": payload}, 200, request_id)


def _json(body: dict[str, Any], status: int, request_id: str) -> web.Response:
    return web.json_response(
        body,
        status=status,
        headers={"x-acs-request-id": request_id},
        dumps=lambda value: json.dumps(value, ensure_ascii=False),
    )


# --- text: RecognizeGeneral, RecognizeAdvanced, RecognizeBasic ---------------------------------------


def first_page(document: Document) -> tuple[Page | None, list[PlainLine]]:
    """The one page a request reads (a PDF was cut to the asked-for page; an image has one page)."""
    if not document.pages:
        return None, []
    page = document.pages[0]
    return page, [line for line in plain_lines(document) if line.page == page.index]


def words_info(line: PlainLine, index: int | None = None) -> dict[str, Any]:
    """One ``prism_wordsInfo`` entry.

    ``x``/``y``/``width``/``height``/``angle`` are the rotated rectangle as Aliyun gives it: a
    horizontal line has angle -90 and its width and height swapped (Aliyun documents that a
    client swaps them back for ±90). Clients that read ``pos`` get the four corners.
    """
    (x0, y0), (x1, y1), (x2, y2), _ = line.points
    length = math.hypot(x1 - x0, y1 - y0)
    thickness = math.hypot(x2 - x1, y2 - y1)
    baseline = math.degrees(math.atan2(y1 - y0, x1 - x0))
    centre_x = sum(x for x, _ in line.points) / 4
    centre_y = sum(y for _, y in line.points) / 4
    info: dict[str, Any] = {
        "angle": round(baseline) - 90,
        "direction": 0,
        "height": round(length),
        "pos": [{"x": x, "y": y} for x, y in line.points],
        "prob": round(line.confidence * 100),
        "width": round(thickness),
        "word": line.text,
        "x": round(centre_x - thickness / 2),
        "y": round(centre_y - length / 2),
    }
    if index is not None:
        info["rowId"] = index
    return info


def text_data(document: Document, *, rows: bool = False) -> dict[str, Any]:
    """The ``Data`` of RecognizeGeneral / RecognizeAdvanced / RecognizeBasic (serialised by the caller)."""
    page, lines = first_page(document)
    width, height = (page.width, page.height) if page else (0, 0)
    data: dict[str, Any] = {
        "content": " ".join(line.text for line in lines),
        "height": height,
        "orgHeight": height,
        "orgWidth": width,
        "prism_version": PRISM_VERSION,
        "prism_wnum": len(lines),
        "prism_wordsInfo": [words_info(line, index if rows else None) for index, line in enumerate(lines)],
        "width": width,
    }
    if rows:  # RecognizeAdvanced with Row=true: each line is a row
        data["prism_rowsInfo"] = [{"rowId": index, "word": line.text} for index, line in enumerate(lines)]
    return data


# --- RecognizeAllText -------------------------------------------------------------------------------


def _points(points: list[list[int]]) -> list[dict[str, int]]:
    return [{"X": x, "Y": y} for x, y in points]


def _rect(points: list[list[int]]) -> dict[str, int]:
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return {
        "CenterX": round((min(xs) + max(xs)) / 2),
        "CenterY": round((min(ys) + max(ys)) / 2),
        "Width": max(xs) - min(xs),
        "Height": max(ys) - min(ys),
    }


def all_text_data(document: Document, *, page_no: int, kind: str) -> dict[str, Any]:
    """RecognizeAllText's ``Data`` object: the page as one sub-image whose blocks are ocrd's lines."""
    page, lines = first_page(document)
    width, height = (page.width, page.height) if page else (0, 0)
    corners = [[0, 0], [width, 0], [width, height], [0, height]]
    blocks = [
        {
            "BlockId": index,
            "BlockContent": line.text,
            "BlockConfidence": round(line.confidence * 100),
            "BlockAngle": 0,
            "BlockPoints": _points(line.points),
            "BlockRect": _rect(line.points),
        }
        for index, line in enumerate(lines)
    ]
    sub_image = {
        "SubImageId": 0,
        "Type": kind,
        "Angle": page.rotation if page else 0,
        "SubImagePoints": _points(corners),
        "SubImageRect": _rect(corners),
        "BlockInfo": {"BlockCount": len(blocks), "BlockDetails": blocks},
    }
    return {
        "Content": "\n".join(line.text for line in lines),
        "Height": height,
        "Width": width,
        "PageNo": page_no,
        "SubImageCount": 1,
        "SubImages": [sub_image],
    }


# --- RecognizeInvoice -------------------------------------------------------------------------------

# Aliyun's invoice keys, each from ocrd's field of that meaning (ocrd.fields.model.HEADER_FIELDS).
_INVOICE_KEYS = {
    "invoiceCode": "invoice_code",
    "invoiceNumber": "invoice_number",
    "invoiceDate": "issue_date",
    "machineCode": "machine_number",
    "checkCode": "check_code",
    "purchaserName": "buyer_name",
    "purchaserTaxNumber": "buyer_tax_id",
    "invoiceAmountPreTax": "amount_pretax",
    "invoiceTax": "tax",
    "totalAmountInWords": "total_in_words",
    "totalAmount": "total",
    "sellerName": "seller_name",
    "sellerTaxNumber": "seller_tax_id",
}
# Printed on the invoice but not read by ocrd: present, empty, as Aliyun leaves what it cannot read.
_UNREAD_KEYS = (
    "printedInvoiceCode",
    "printedInvoiceNumber",
    "purchaserContactInfo",
    "purchaserBankAccountInfo",
    "passwordArea",
    "sellerContactInfo",
    "sellerBankAccountInfo",
    "recipient",
    "reviewer",
    "drawer",
    "remarks",
    "formType",
    "specialTag",
)
_DETAIL_KEYS = {
    "itemName": "name",
    "specification": None,
    "unit": None,
    "quantity": "quantity",
    "unitPrice": "unit_price",
    "amount": "amount",
    "taxRate": "tax_rate",
    "tax": "tax",
}
_INVOICE_TYPES = {
    "vat_special": "专用发票",
    "vat_normal": "普通发票",
    "vat_electronic_special": "电子专用发票",
    "vat_electronic_normal": "电子普通发票",
}
_NOT_A_TITLE = ("代码", "号码", "日期", ":", "：")


def is_invoice(document: Document) -> bool:
    return invoice_kind(document) in VAT_KINDS or bool(field_values(document))


def _aliyun_date(iso: str) -> str:
    """2017-02-12 as Aliyun prints invoice dates: 2017年02月12日."""
    parts = iso.split("-")
    if len(parts) != 3:
        return iso
    return f"{parts[0]}年{parts[1]}月{parts[2]}日"


def _title(lines: list[PlainLine]) -> str:
    """The printed title (e.g. 上海增值税电子普通发票): the first short line naming the form."""
    for line in lines:
        text = line.text.strip()
        if "发票" in text and len(text) <= 30 and not any(word in text for word in _NOT_A_TITLE):
            return text
    return ""


def _invoice_type(kind: str | None, title: str) -> str:
    if kind == "fully_digital":
        return "数电专用发票" if "专用" in title else "数电普通发票"
    return _INVOICE_TYPES.get(kind or "", "")


def _details(document: Document) -> list[dict[str, str]]:
    fields = document.fields
    item = None if fields is None else fields.values.get("line_items")
    rows = item.value if item is not None and isinstance(item.value, list) else []
    return [
        {key: str(row.get(name) or "") if name else "" for key, name in _DETAIL_KEYS.items()}
        for row in rows
        if isinstance(row, dict)
    ]


def _key_values(document: Document, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """``prism_keyValueInfo``: each value read (as in ``data``) and where, for clients that draw them."""
    fields = document.fields
    if fields is None:
        return []
    found = []
    for key, name in _INVOICE_KEYS.items():
        item = fields.values.get(name)
        if item is None or not invoice[key]:
            continue
        entry: dict[str, Any] = {"key": key, "keyProb": 100, "value": invoice[key]}
        entry["valueProb"] = round(float(item.confidence) * 100)
        if item.box is not None:
            entry["valuePos"] = [{"x": round(x), "y": round(y)} for x, y in item.box]
        found.append(entry)
    return found


def invoice_data(document: Document) -> dict[str, Any]:
    """RecognizeInvoice's ``Data`` (serialised by the caller): Aliyun's keys, all strings."""
    page, lines = first_page(document)
    width, height = (page.width, page.height) if page else (0, 0)
    values = field_values(document)
    invoice: dict[str, Any] = {key: values.get(name, "") for key, name in _INVOICE_KEYS.items()}
    if invoice["invoiceDate"]:
        invoice["invoiceDate"] = _aliyun_date(invoice["invoiceDate"])
    invoice |= dict.fromkeys(_UNREAD_KEYS, "")
    title = _title(lines)
    invoice["title"] = title
    invoice["invoiceType"] = _invoice_type(invoice_kind(document), title)
    invoice["invoiceDetails"] = _details(document)
    return {
        "angle": page.rotation if page else 0,
        "data": invoice,
        "ftype": 0,
        "height": height,
        "width": width,
        "orgHeight": height,
        "orgWidth": width,
        "prism_keyValueInfo": _key_values(document, invoice),
    }

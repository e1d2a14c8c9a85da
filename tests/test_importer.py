"""Tests for the mongoexport directory importer, run against the embedded MongoDB client."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio
from bson import Int64, ObjectId
from pymongo.errors import BulkWriteError

from analytics_service.demo.importer import (
    CollectionImport,
    DatasetError,
    ImportReport,
    InvalidLine,
    find_export_files,
    import_directory,
    read_export_file,
)
from analytics_service.storage.embedded import EmbeddedMongoClient

OBJECT_ID = "65a1b2c3d4e5f60718293a4b"


@pytest_asyncio.fixture
async def database():
    client = EmbeddedMongoClient()
    yield client["news"]
    await client.close()


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def documents_with_ids(ids: list[int]) -> list[str]:
    return [json.dumps({"_id": document_id}) for document_id in ids]


async def find_all(database, collection: str) -> list[dict]:
    return await database[collection].find().sort("_id", 1).to_list()


class RecordingCollection:
    """Collection wrapper that records the size of each insert_many batch."""

    def __init__(self, collection, batch_sizes: list[int]) -> None:
        self._collection = collection
        self._batch_sizes = batch_sizes

    async def insert_many(self, documents, ordered=True):
        self._batch_sizes.append(len(documents))
        return await self._collection.insert_many(documents, ordered=ordered)


class RecordingDatabase:
    def __init__(self, database) -> None:
        self._database = database
        self.batch_sizes: list[int] = []

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self._database[name], self.batch_sizes)


class FailingCollection:
    def __init__(self, error: Exception) -> None:
        self._error = error

    async def insert_many(self, documents, ordered=True):
        raise self._error


class FailingDatabase:
    """Database whose collections raise the given error from every insert_many."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def __getitem__(self, name: str) -> FailingCollection:
        return FailingCollection(self._error)


# Extended JSON


@pytest.mark.asyncio
async def test_canonical_extended_json_round_trip(tmp_path, database):
    line = json.dumps(
        {
            "_id": {"$oid": OBJECT_ID},
            "published": {"$date": {"$numberLong": "1700000000000"}},
            "views": {"$numberLong": "9007199254740993"},
            "shares": {"$numberInt": "42"},
            "score": {"$numberDouble": "0.5"},
        }
    )
    write_lines(tmp_path / "articles.jsonl", [line])

    report = await import_directory(database, tmp_path, progress=False)

    assert report.total_inserted == 1
    stored = await database["articles"].find_one({})
    assert stored["_id"] == ObjectId(OBJECT_ID)
    assert stored["published"] == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert stored["published"].tzinfo is not None
    assert stored["views"] == 9007199254740993
    assert stored["shares"] == 42
    assert stored["score"] == 0.5


def test_canonical_number_long_decoded_as_int64(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", ['{"_id": 1, "views": {"$numberLong": "5"}}'])

    [document] = list(read_export_file(path))

    assert isinstance(document["views"], Int64)


@pytest.mark.asyncio
async def test_relaxed_extended_json_round_trip(tmp_path, database):
    line = json.dumps(
        {
            "_id": {"$oid": OBJECT_ID},
            "published": {"$date": "2024-01-02T03:04:05.123Z"},
            "views": 9007199254740993,
            "score": 0.5,
        }
    )
    write_lines(tmp_path / "articles.jsonl", [line])

    await import_directory(database, tmp_path, progress=False)

    stored = await database["articles"].find_one({})
    assert stored["_id"] == ObjectId(OBJECT_ID)
    assert stored["published"] == datetime(2024, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    assert stored["views"] == 9007199254740993
    assert stored["score"] == 0.5


def test_date_with_offset_converted_to_utc(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", ['{"_id": 1, "published": {"$date": "2024-01-02T03:04:05+02:00"}}'])

    [document] = list(read_export_file(path))

    assert document["published"] == datetime(2024, 1, 2, 1, 4, 5, tzinfo=UTC)
    assert document["published"].utcoffset().total_seconds() == 0


def test_invalid_extended_json_value_reported(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", ['{"_id": {"$oid": "xyz"}}', '{"_id": 2}'])

    entries = list(read_export_file(path))

    assert isinstance(entries[0], InvalidLine)
    assert entries[0].line == 1
    assert "invalid Extended JSON value" in entries[0].message
    assert "xyz" in entries[0].message
    assert entries[1] == {"_id": 2}


def test_unencodable_integer_reported(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", ['{"_id": 1, "views": 123456789012345678901234567890}'])

    [entry] = list(read_export_file(path))

    assert isinstance(entry, InvalidLine)
    assert "cannot be encoded as BSON" in entry.message


def test_oversized_document_reported(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text(json.dumps({"_id": 1, "body": "x" * (16 * 1024 * 1024)}) + "\n", encoding="utf-8")

    [entry] = list(read_export_file(path))

    assert isinstance(entry, InvalidLine)
    assert "above MongoDB's maximum" in entry.message


# File formats


@pytest.mark.asyncio
async def test_json_array_file_imported(tmp_path, database):
    (tmp_path / "articles.json").write_text(
        '\n  [\n  {"_id": 1},\n  {"_id": {"$numberLong": "2"}}, {"_id": 3}\n]\n', encoding="utf-8"
    )

    report = await import_directory(database, tmp_path, progress=False)

    assert report.collections == [CollectionImport("articles", inserted=3)]
    assert [document["_id"] for document in await find_all(database, "articles")] == [1, 2, 3]


def test_empty_json_array_yields_nothing(tmp_path):
    path = tmp_path / "articles.json"
    path.write_text("[ ]\n", encoding="utf-8")

    assert list(read_export_file(path)) == []


def test_json_array_syntax_error_skips_whole_file(tmp_path):
    path = tmp_path / "articles.json"
    path.write_text('[\n{"_id": 1},\n{"_id": 2}\n{"_id": 3}\n]\n', encoding="utf-8")

    entries = list(read_export_file(path))

    assert len(entries) == 1
    assert entries[0].line == 4
    assert "invalid JSON array" in entries[0].message
    assert "whole file was skipped" in entries[0].message


def test_json_array_extra_data_skips_whole_file(tmp_path):
    path = tmp_path / "articles.json"
    path.write_text('[{"_id": 1}]\n{"_id": 2}\n', encoding="utf-8")

    entries = list(read_export_file(path))

    assert len(entries) == 1
    assert entries[0].line == 2
    assert "Extra data" in entries[0].message


def test_json_array_non_object_element_reported(tmp_path):
    path = tmp_path / "articles.json"
    path.write_text('[\n{"_id": 1},\n"headline",\n{"_id": 3}\n]\n', encoding="utf-8")

    entries = list(read_export_file(path))

    assert entries[0] == {"_id": 1}
    assert entries[1] == InvalidLine(
        path, 3, "array element at index 1: not a document: expected a JSON object, got a string"
    )
    assert entries[2] == {"_id": 3}


def test_json_array_bad_utf8_skips_whole_file(tmp_path):
    path = tmp_path / "articles.json"
    path.write_bytes(b'[\n{"_id": 1},\n{"_id": 2, "title": "caf\xff"}\n]\n')

    entries = list(read_export_file(path))

    assert len(entries) == 1
    assert entries[0].line == 3
    assert "invalid UTF-8: byte 0xff at column 25" in entries[0].message
    assert "whole file was skipped" in entries[0].message


@pytest.mark.asyncio
async def test_line_delimited_json_file_imported(tmp_path, database):
    write_lines(tmp_path / "articles.json", documents_with_ids([1, 2, 3]))

    report = await import_directory(database, tmp_path, progress=False)

    assert report.collections == [CollectionImport("articles", inserted=3)]
    assert len(await find_all(database, "articles")) == 3


def test_blank_lines_ignored(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text('\n{"_id": 1}\n   \n\t\n{"_id": 2}\n\n', encoding="utf-8")

    assert list(read_export_file(path)) == [{"_id": 1}, {"_id": 2}]


def test_crlf_line_endings_accepted(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_bytes(b'{"_id": 1}\r\n{"_id": 2}\r\n')

    assert list(read_export_file(path)) == [{"_id": 1}, {"_id": 2}]


def test_utf8_byte_order_mark_ignored(tmp_path):
    path = tmp_path / "articles.json"
    path.write_bytes(b'\xef\xbb\xbf[{"_id": 1}]\n')

    assert list(read_export_file(path)) == [{"_id": 1}]


def test_jsonl_starting_with_bracket_read_per_line(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", ['[{"_id": 1}]'])

    [entry] = list(read_export_file(path))

    assert entry == InvalidLine(path, 1, "not a document: expected a JSON object, got an array")


# Invalid lines


def test_invalid_line_reported_with_line_number(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", ['{"_id": 1}', '{"_id": 2 "title": "x"}'])

    entries = list(read_export_file(path))

    assert entries[1] == InvalidLine(path, 2, "invalid JSON: Expecting ',' delimiter at column 11")


@pytest.mark.asyncio
async def test_invalid_line_does_not_stop_import(tmp_path, database):
    write_lines(tmp_path / "articles.jsonl", ['{"_id": 1}', "{not json", '{"_id": 3}'])

    report = await import_directory(database, tmp_path, progress=False)

    assert report.collections == [CollectionImport("articles", inserted=2, skipped_invalid=1)]
    assert [line.line for line in report.invalid_lines] == [2]
    assert [document["_id"] for document in await find_all(database, "articles")] == [1, 3]


def test_non_object_line_reported(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", ["[1, 2]", "42", "null", '{"$oid": "' + OBJECT_ID + '"}'])

    messages = [entry.message for entry in read_export_file(path)]

    assert messages == [
        "not a document: expected a JSON object, got an array",
        "not a document: expected a JSON object, got a number",
        "not a document: expected a JSON object, got null",
        "not a document: expected a JSON object, got a ObjectId",
    ]


@pytest.mark.asyncio
async def test_bad_utf8_byte_reported(tmp_path, database):
    (tmp_path / "articles.jsonl").write_bytes(b'{"_id": 1}\n{"_id": 2, "title": "caf\xe9"}\n{"_id": 3}\n')

    report = await import_directory(database, tmp_path, progress=False)

    [invalid_line] = report.invalid_lines
    assert invalid_line.line == 2
    assert invalid_line.message.startswith("invalid UTF-8: byte 0xe9 at column 25")
    assert report.total_inserted == 2


@pytest.mark.asyncio
async def test_on_invalid_called_for_each_invalid_line(tmp_path, database):
    write_lines(tmp_path / "articles.jsonl", ["{bad", '{"_id": 1}', "[]"])
    received: list[InvalidLine] = []

    report = await import_directory(database, tmp_path, progress=False, on_invalid=received.append)

    assert [line.line for line in received] == [1, 3]
    assert received == report.invalid_lines


@pytest.mark.asyncio
async def test_invalid_line_logged_as_warning(tmp_path, database, caplog):
    path = write_lines(tmp_path / "articles.jsonl", ['{"_id": 1}', "{bad"])
    caplog.set_level(logging.WARNING, logger="analytics_service.demo.importer")

    await import_directory(database, tmp_path, progress=False)

    [record] = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert str(path) in record.getMessage()
    assert "line 2" in record.getMessage()


# Duplicates and batching


@pytest.mark.asyncio
async def test_duplicate_id_within_file_counted(tmp_path, database):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2, 1, 3, 2]))

    report = await import_directory(database, tmp_path, progress=False)

    assert report.collections == [CollectionImport("articles", inserted=3, skipped_duplicate=2)]
    assert report.has_skipped


@pytest.mark.asyncio
async def test_duplicate_id_against_existing_documents_counted(tmp_path, database):
    await database["articles"].insert_one({"_id": 2, "title": "existing"})
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2, 3]))

    report = await import_directory(database, tmp_path, progress=False)

    assert report.collections == [CollectionImport("articles", inserted=2, skipped_duplicate=1)]
    existing = await database["articles"].find_one({"_id": 2})
    assert existing["title"] == "existing"


@pytest.mark.asyncio
async def test_reimport_counts_everything_as_duplicate(tmp_path, database):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2]))
    await import_directory(database, tmp_path, progress=False)

    report = await import_directory(database, tmp_path, progress=False)

    assert report.collections == [CollectionImport("articles", inserted=0, skipped_duplicate=2)]


@pytest.mark.asyncio
async def test_batches_across_batch_boundary(tmp_path, database):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2, 3, 4, 5]))
    recording = RecordingDatabase(database)

    report = await import_directory(recording, tmp_path, batch_size=2, progress=False)

    assert recording.batch_sizes == [2, 2, 1]
    assert report.total_inserted == 5
    assert [document["_id"] for document in await find_all(database, "articles")] == [1, 2, 3, 4, 5]


@pytest.mark.asyncio
async def test_duplicate_across_batches_counted(tmp_path, database):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2, 3, 1, 2]))

    report = await import_directory(database, tmp_path, batch_size=2, progress=False)

    assert report.collections == [CollectionImport("articles", inserted=3, skipped_duplicate=2)]


@pytest.mark.asyncio
async def test_batch_size_below_one_rejected(tmp_path, database):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1]))

    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        await import_directory(database, tmp_path, batch_size=0, progress=False)


@pytest.mark.asyncio
async def test_mongomock_bulk_write_error_shape(database):
    # The importer reads writeErrors[].code, writeErrors[].op and nInserted, which
    # MongoDB also returns. This checks that the embedded client reports them the same way.
    await database["articles"].insert_one({"_id": 1})

    with pytest.raises(BulkWriteError) as raised:
        await database["articles"].insert_many([{"_id": 1}, {"_id": 2}, {"_id": 2}, {"_id": 3}], ordered=False)

    details = raised.value.details
    assert [error["code"] for error in details["writeErrors"]] == [11000, 11000]
    assert [error["index"] for error in details["writeErrors"]] == [0, 2]
    assert [error["op"]["_id"] for error in details["writeErrors"]] == [1, 2]
    assert details["nInserted"] == 2


@pytest.mark.asyncio
async def test_non_duplicate_write_error_reraised(tmp_path):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1]))
    error = BulkWriteError(
        {
            "writeErrors": [{"index": 0, "code": 121, "errmsg": "Document failed validation", "op": {"_id": 1}}],
            "writeConcernErrors": [],
            "nInserted": 0,
        }
    )

    with pytest.raises(BulkWriteError) as raised:
        await import_directory(FailingDatabase(error), tmp_path, progress=False)

    assert raised.value is error
    assert any("failed after 0 documents" in note for note in raised.value.__notes__)


@pytest.mark.asyncio
async def test_write_concern_error_reraised(tmp_path):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1]))
    error = BulkWriteError(
        {
            "writeErrors": [],
            "writeConcernErrors": [{"code": 64, "errmsg": "waiting for replication timed out"}],
            "nInserted": 1,
        }
    )

    with pytest.raises(BulkWriteError):
        await import_directory(FailingDatabase(error), tmp_path, progress=False)


# Empty files and directory errors


@pytest.mark.asyncio
async def test_empty_file_imports_nothing(tmp_path, database):
    (tmp_path / "articles.jsonl").write_bytes(b"")

    report = await import_directory(database, tmp_path, progress=False)

    assert report.collections == [CollectionImport("articles")]
    assert report.invalid_lines == []
    assert not report.has_skipped


def test_missing_directory_rejected(tmp_path):
    with pytest.raises(DatasetError, match="export directory not found"):
        find_export_files(tmp_path / "missing")


def test_file_instead_of_directory_rejected(tmp_path):
    path = write_lines(tmp_path / "articles.jsonl", documents_with_ids([1]))

    with pytest.raises(DatasetError, match="not a directory"):
        find_export_files(path)


def test_directory_without_export_files_rejected(tmp_path):
    (tmp_path / "README.md").write_text("notes\n", encoding="utf-8")
    (tmp_path / "nested.json").mkdir()

    with pytest.raises(DatasetError, match="no export files"):
        find_export_files(tmp_path)


def test_ambiguous_json_and_jsonl_rejected(tmp_path):
    write_lines(tmp_path / "users.json", documents_with_ids([1]))
    write_lines(tmp_path / "users.jsonl", documents_with_ids([1]))

    with pytest.raises(DatasetError, match="users.json and users.jsonl"):
        find_export_files(tmp_path)


@pytest.mark.parametrize(
    "file_name",
    ["system.users.json", "$cmd.json", "bad name.jsonl", "café.json", ".hidden.json", "trailing..jsonl", "a..b.json"],
)
def test_invalid_collection_name_rejected(tmp_path, file_name):
    write_lines(tmp_path / file_name, documents_with_ids([1]))

    with pytest.raises(DatasetError, match="invalid collection name") as raised:
        find_export_files(tmp_path)

    assert file_name in str(raised.value)


def test_export_files_sorted_by_name(tmp_path):
    for file_name in ["users.jsonl", "articles.json", "page-views.v2.jsonl", "notes.txt"]:
        write_lines(tmp_path / file_name, documents_with_ids([1]))

    export_files = find_export_files(tmp_path)

    assert export_files == [
        ("articles", tmp_path / "articles.json"),
        ("page-views.v2", tmp_path / "page-views.v2.jsonl"),
        ("users", tmp_path / "users.jsonl"),
    ]


# Report, logging and progress


def test_report_totals():
    report = ImportReport(
        collections=[
            CollectionImport("articles", inserted=3, skipped_invalid=1),
            CollectionImport("users", inserted=2, skipped_duplicate=4),
        ]
    )

    assert report.total_inserted == 5
    assert report.total_skipped_invalid == 1
    assert report.total_skipped_duplicate == 4
    assert report.has_skipped


@pytest.mark.asyncio
async def test_collection_summary_logged(tmp_path, database, caplog):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 1]) + ["{bad"])
    write_lines(tmp_path / "users.jsonl", documents_with_ids([1]))
    caplog.set_level(logging.INFO, logger="analytics_service.demo.importer")

    await import_directory(database, tmp_path, progress=False)

    summaries = [record.getMessage() for record in caplog.records if record.levelno == logging.INFO]
    assert len(summaries) == 2
    assert summaries[0].startswith("Imported collection articles")
    assert "1 inserted, 1 skipped as duplicates, 1 skipped as invalid" in summaries[0]
    assert summaries[1].startswith("Imported collection users")


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.asyncio
async def test_progress_bar_written_to_terminal(tmp_path, database, monkeypatch):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2]))
    stream = TerminalStream()
    monkeypatch.setattr("sys.stderr", stream)

    await import_directory(database, tmp_path)

    assert "articles" in stream.getvalue()
    assert "2doc" in stream.getvalue()


@pytest.mark.asyncio
async def test_progress_bar_hidden_when_disabled(tmp_path, database, monkeypatch):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2]))
    stream = TerminalStream()
    monkeypatch.setattr("sys.stderr", stream)

    await import_directory(database, tmp_path, progress=False)

    assert stream.getvalue() == ""


@pytest.mark.asyncio
async def test_progress_bar_hidden_without_terminal(tmp_path, database, monkeypatch):
    write_lines(tmp_path / "articles.jsonl", documents_with_ids([1, 2]))
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)

    await import_directory(database, tmp_path)

    assert stream.getvalue() == ""

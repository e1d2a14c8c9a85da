"""Load a mongoexport directory into a MongoDB database.

The directory contains one file per collection, named ``<collection>.jsonl`` or
``<collection>.json``, in MongoDB Extended JSON (canonical or relaxed mode). A ``.jsonl``
file has one document per line. A ``.json`` file has either one document per line
(mongoexport's default) or one JSON array (``mongoexport --jsonArray``).

Invalid lines and documents whose ``_id`` already exists are skipped, counted in the
returned report and logged. They never stop the import.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any, BinaryIO

import bson
from bson import json_util
from bson.errors import BSONError
from bson.json_util import JSONOptions
from pymongo.errors import BulkWriteError
from tqdm import tqdm

logger = logging.getLogger(__name__)

EXPORT_SUFFIXES = (".json", ".jsonl")

# Extended JSON dates become aware datetimes in UTC, whatever offset the file uses.
JSON_OPTIONS = JSONOptions(tz_aware=True, tzinfo=UTC)

DUPLICATE_KEY_ERROR = 11000

# MongoDB's maximum BSON document size (16 MiB). PyMongo raises DocumentTooLarge for a
# larger document, which would abort the whole batch, so such documents are skipped as invalid.
MAX_BSON_DOCUMENT_SIZE = 16 * 1024 * 1024

_UTF8_BOM = b"\xef\xbb\xbf"
_JSON_WHITESPACE = b" \t\r\n"
_JSON_WHITESPACE_PATTERN = re.compile(r"[ \t\r\n]*")
_COLLECTION_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]+")

# Errors that bson.json_util.loads and bson.encode raise for values they cannot convert.
# ValueError includes json.JSONDecodeError and UnicodeEncodeError, ArithmeticError includes
# decimal.InvalidOperation and OverflowError, and BSONError includes InvalidId and InvalidBSON.
_CONVERSION_ERRORS = (ValueError, TypeError, ArithmeticError, BSONError)


class DatasetError(Exception):
    """Export directory that cannot be imported: missing, empty, ambiguous or badly named."""


@dataclass(frozen=True)
class InvalidLine:
    """Line of an export file that was skipped, and the reason."""

    path: Path
    # 1-based line where the problem was found. For a JSON array this is the line where
    # the element starts, or where parsing failed when the whole file was skipped.
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class CollectionImport:
    """Document counts for one collection of an import."""

    collection: str
    inserted: int = 0
    skipped_invalid: int = 0
    skipped_duplicate: int = 0


@dataclass
class ImportReport:
    """Per-collection counts and every invalid line of one import."""

    collections: list[CollectionImport] = field(default_factory=list)
    invalid_lines: list[InvalidLine] = field(default_factory=list)

    @property
    def total_inserted(self) -> int:
        return sum(counts.inserted for counts in self.collections)

    @property
    def total_skipped_invalid(self) -> int:
        return sum(counts.skipped_invalid for counts in self.collections)

    @property
    def total_skipped_duplicate(self) -> int:
        return sum(counts.skipped_duplicate for counts in self.collections)

    @property
    def has_skipped(self) -> bool:
        """Whether any invalid line or duplicate document was skipped."""
        return self.total_skipped_invalid > 0 or self.total_skipped_duplicate > 0


# Finding export files


def find_export_files(directory: Path) -> list[tuple[str, Path]]:
    """Return the collection name and file of each export file in directory, sorted by name.

    Files with other suffixes and subdirectories are ignored. Raises DatasetError when the
    directory is missing or not a directory, contains no export file, contains both
    ``<name>.json`` and ``<name>.jsonl``, or a file name is not a valid collection name.
    """
    if not directory.exists():
        raise DatasetError(f"export directory not found: {directory}")
    if not directory.is_dir():
        raise DatasetError(f"export path is not a directory: {directory}")

    files_by_collection: dict[str, list[Path]] = {}
    for path in directory.iterdir():
        if path.suffix not in EXPORT_SUFFIXES or not path.is_file():
            logger.debug("Ignoring %s: not a .json or .jsonl file", path)
            continue
        files_by_collection.setdefault(path.stem, []).append(path)

    if not files_by_collection:
        raise DatasetError(
            f"no export files in {directory}: expected one <collection>.json or "
            "<collection>.jsonl file per collection, as mongoexport writes them"
        )

    export_files = []
    for collection, paths in sorted(files_by_collection.items()):
        if len(paths) > 1:
            names = " and ".join(sorted(path.name for path in paths))
            raise DatasetError(
                f"ambiguous export files for collection {collection!r} in {directory}: "
                f"{names}. Keep only one of them."
            )
        path = paths[0]
        reason = _check_collection_name(collection)
        if reason is not None:
            raise DatasetError(
                f"invalid collection name {collection!r} from file {path}: {reason}. Rename the file."
            )
        export_files.append((collection, path))
    return export_files


def _check_collection_name(name: str) -> str | None:
    """Return why name is not an acceptable collection name, or None when it is.

    The dot rules are the ones PyMongo 4's Collection constructor enforces. Names starting
    with "system." are reserved for MongoDB's own collections.
    """
    if name.startswith("$"):
        return "it must not start with '$'"
    if not _COLLECTION_NAME_PATTERN.fullmatch(name):
        return "only letters, digits, '_', '-' and '.' are allowed"
    if name.startswith("system."):
        return "names starting with 'system.' are reserved by MongoDB"
    if name.startswith(".") or name.endswith("."):
        return "it must not start or end with '.'"
    if ".." in name:
        return "it must not contain '..'"
    return None


# Reading export files


def read_export_file(path: Path) -> Iterator[dict | InvalidLine]:
    """Yield the documents of an export file in file order, with an InvalidLine for each line skipped.

    Blank lines are ignored. A line is invalid when it is not valid UTF-8 or JSON, when
    it is not a JSON object, when an Extended JSON value cannot be converted, or when the
    document cannot be encoded as BSON within MongoDB's size limit.

    A ``.json`` file whose first non-whitespace character is ``[`` is read as one JSON
    array. Invalid elements are skipped one by one, but if the array is not valid UTF-8
    or not valid JSON, no document of the file is yielded and a single InvalidLine reports it.

    NOTE: documents that span several lines (``mongoexport --pretty``) are not supported.
    Each of their lines is reported as an invalid line.
    """
    with path.open("rb") as handle:
        if handle.read(len(_UTF8_BOM)) != _UTF8_BOM:
            handle.seek(0)
        if path.suffix == ".json" and _first_significant_byte(handle) == b"[":
            yield from _read_json_array(path, handle.read())
        else:
            yield from _read_line_delimited(path, handle)


def _first_significant_byte(handle: BinaryIO) -> bytes:
    """Return the first non-whitespace byte from the current position, and seek back there."""
    start = handle.tell()
    byte = b""
    while chunk := handle.read(4096):
        stripped = chunk.lstrip(_JSON_WHITESPACE)
        if stripped:
            byte = stripped[:1]
            break
    handle.seek(start)
    return byte


def _read_line_delimited(path: Path, handle: BinaryIO) -> Iterator[dict | InvalidLine]:
    for line_number, raw_line in enumerate(handle, start=1):
        try:
            text = raw_line.decode("utf-8")
        except UnicodeDecodeError as error:
            yield InvalidLine(path, line_number, _describe_utf8_error(raw_line, error.start, error.reason))
            continue

        if not text.strip():
            continue

        result = _decode_document(text)
        if isinstance(result, str):
            yield InvalidLine(path, line_number, result)
        else:
            yield result


def _read_json_array(path: Path, data: bytes) -> Iterator[dict | InvalidLine]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        line_end = data.find(b"\n", error.start)
        raw_line = data[line_start:] if line_end == -1 else data[line_start:line_end]
        description = _describe_utf8_error(raw_line, error.start - line_start, error.reason)
        line_number = data.count(b"\n", 0, error.start) + 1
        message = f"{description}. The JSON array cannot be parsed, so the whole file was skipped"
        yield InvalidLine(path, line_number, message)
        return

    # The syntax of the whole array is checked before any element is converted, so a
    # file with a syntax error yields no documents instead of an arbitrary prefix.
    try:
        spans = _split_json_array(text)
    except json.JSONDecodeError as error:
        yield InvalidLine(
            path,
            error.lineno,
            f"invalid JSON array: {error.msg} at column {error.colno}, so the whole file was skipped",
        )
        return

    line_number = 1
    previous_start = 0
    for index, (start, end) in enumerate(spans):
        line_number += text.count("\n", previous_start, start)
        previous_start = start
        result = _decode_document(text[start:end])
        if isinstance(result, str):
            yield InvalidLine(path, line_number, f"array element at index {index}: {result}")
        else:
            yield result


def _split_json_array(text: str) -> list[tuple[int, int]]:
    """Return the start and end offsets of each element of the JSON array in text.

    Each element is parsed once here with the plain json decoder only to find where it
    ends. Converting it again with bson.json_util.loads lets an element with an invalid
    Extended JSON value be skipped on its own. Raises json.JSONDecodeError.
    """
    decoder = json.JSONDecoder()
    position = _skip_whitespace(text, 0)
    if not text.startswith("[", position):
        raise json.JSONDecodeError("Expecting '['", text, position)
    position = _skip_whitespace(text, position + 1)

    spans: list[tuple[int, int]] = []
    if text.startswith("]", position):
        position += 1
    else:
        while True:
            _, end = decoder.raw_decode(text, position)
            spans.append((position, end))
            position = _skip_whitespace(text, end)
            if text.startswith(",", position):
                position = _skip_whitespace(text, position + 1)
            elif text.startswith("]", position):
                position += 1
                break
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter or ']'", text, position)

    position = _skip_whitespace(text, position)
    if position != len(text):
        raise json.JSONDecodeError("Extra data after the closing ']'", text, position)
    return spans


def _skip_whitespace(text: str, position: int) -> int:
    return _JSON_WHITESPACE_PATTERN.match(text, position).end()


def _decode_document(text: str) -> dict | str:
    """Convert one Extended JSON value to a document, or return why it is invalid."""
    try:
        value = json_util.loads(text, json_options=JSON_OPTIONS)
    except json.JSONDecodeError as error:
        return f"invalid JSON: {error.msg} at column {error.colno}"
    except _CONVERSION_ERRORS as error:
        return f"invalid Extended JSON value: {error}"

    if not isinstance(value, dict):
        return f"not a document: expected a JSON object, got {_describe_json_type(value)}"

    # Encoding here catches what PyMongo would reject only when inserting the batch, such
    # as integers above 64 bits or strings with unpaired surrogates from "\ud800" escapes.
    try:
        size = len(bson.encode(value))
    except _CONVERSION_ERRORS as error:
        return f"document cannot be encoded as BSON: {error}"
    if size > MAX_BSON_DOCUMENT_SIZE:
        return f"document is {size} bytes as BSON, above MongoDB's maximum of {MAX_BSON_DOCUMENT_SIZE} bytes"
    return value


def _describe_json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    # Extended JSON wrappers such as {"$oid": ...} at the top level.
    return f"a {type(value).__name__}"


def _describe_utf8_error(raw_line: bytes, offset: int, reason: str) -> str:
    """Describe an invalid UTF-8 byte at offset in raw_line, with a 1-based character column."""
    column = len(raw_line[:offset].decode("utf-8")) + 1
    return f"invalid UTF-8: byte 0x{raw_line[offset]:02x} at column {column} ({reason})"


# Importing into a database


async def import_directory(
    database: Any,
    directory: Path,
    *,
    batch_size: int = 1000,
    progress: bool = True,
    on_invalid: Callable[[InvalidLine], None] | None = None,
) -> ImportReport:
    """Insert the documents of every export file in directory into its collection.

    ``database[name]`` must return a collection with an awaitable
    ``insert_many(documents, ordered=False)``, as PyMongo's AsyncDatabase and
    EmbeddedMongoClient's databases do. Documents are inserted in batches of
    ``batch_size``. A document whose ``_id`` already exists is skipped and counted as a
    duplicate. Each invalid line is logged at WARNING and passed to ``on_invalid``.

    An empty file creates no collection, because MongoDB creates a collection on its
    first insert. Raises DatasetError for an unusable directory (see find_export_files)
    and re-raises any write error other than a duplicate key, with an exception note
    that gives the file and the number of its documents already inserted.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")

    export_files = find_export_files(directory)
    report = ImportReport()
    show_progress = progress and _stderr_is_tty()

    # Parsing runs on one worker thread so that a large file does not block the event
    # loop. A single thread keeps the calls on each file's generator in order.
    reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-reader")
    try:
        for collection_name, path in export_files:
            counts = await _import_file(
                database[collection_name],
                collection_name,
                path,
                reader=reader,
                batch_size=batch_size,
                show_progress=show_progress,
                on_invalid=on_invalid,
                invalid_lines=report.invalid_lines,
            )
            report.collections.append(counts)
            logger.info(
                "Imported collection %s from %s: %d inserted, %d skipped as duplicates, %d skipped as invalid",
                collection_name,
                path,
                counts.inserted,
                counts.skipped_duplicate,
                counts.skipped_invalid,
            )
    finally:
        reader.shutdown(wait=False)
    return report


async def _import_file(
    collection: Any,
    collection_name: str,
    path: Path,
    *,
    reader: Executor,
    batch_size: int,
    show_progress: bool,
    on_invalid: Callable[[InvalidLine], None] | None,
    invalid_lines: list[InvalidLine],
) -> CollectionImport:
    counts = CollectionImport(collection_name)
    entries = read_export_file(path)
    loop = asyncio.get_running_loop()
    try:
        with tqdm(desc=collection_name, unit="doc", file=sys.stderr, disable=not show_progress) as progress_bar:
            finished = False
            while not finished:
                documents, batch_invalid_lines, finished = await loop.run_in_executor(
                    reader, _read_batch, entries, batch_size
                )

                for invalid_line in batch_invalid_lines:
                    logger.warning(
                        "Skipped line %d of %s: %s", invalid_line.line, invalid_line.path, invalid_line.message
                    )
                    counts.skipped_invalid += 1
                    invalid_lines.append(invalid_line)
                    if on_invalid is not None:
                        on_invalid(invalid_line)

                if not documents:
                    continue
                try:
                    inserted, duplicates = await _insert_batch(collection, collection_name, documents)
                except Exception as error:
                    error.add_note(
                        f"Import of {path} into collection {collection_name!r} failed after "
                        f"{counts.inserted} documents from earlier batches were inserted. They are not "
                        "rolled back, and part of the failed batch may be inserted too."
                    )
                    raise
                counts.inserted += inserted
                counts.skipped_duplicate += duplicates
                progress_bar.update(len(documents))
    finally:
        # If this task was cancelled, the reader thread may still be inside next(entries).
        # Queuing the close on that thread runs it afterwards and closes the file.
        reader.submit(entries.close)
    return counts


def _read_batch(
    entries: Iterator[dict | InvalidLine], batch_size: int
) -> tuple[list[dict], list[InvalidLine], bool]:
    """Read up to batch_size documents and return them, the invalid lines met and whether the file ended."""
    documents: list[dict] = []
    invalid_lines: list[InvalidLine] = []
    for entry in entries:
        if isinstance(entry, InvalidLine):
            invalid_lines.append(entry)
            continue
        documents.append(entry)
        if len(documents) >= batch_size:
            return documents, invalid_lines, False
    return documents, invalid_lines, True


async def _insert_batch(collection: Any, collection_name: str, documents: list[dict]) -> tuple[int, int]:
    """Insert documents unordered and return the number inserted and the number of duplicates skipped.

    Raises the BulkWriteError unless every write error is a duplicate key and there is
    no write concern error.

    NOTE: mongomock 4.3 rejects top-level field names starting with "$", which MongoDB 5.0
    and later accept on insert. It raises bson.errors.InvalidDocument instead of a
    BulkWriteError, after inserting the documents before it, so with the embedded client
    such a document stops the import.
    """
    try:
        await collection.insert_many(documents, ordered=False)
    except BulkWriteError as error:
        # PyMongo 4 reports "writeErrors" (each with "index", "code", "errmsg" and "op"),
        # "writeConcernErrors", "nInserted" and other counters. mongomock 4.3 reports only
        # "writeErrors" with the same keys and "nInserted", so a missing "writeConcernErrors" means none.
        details = error.details
        write_errors = details.get("writeErrors", [])
        if details.get("writeConcernErrors"):
            raise
        if any(write_error.get("code") != DUPLICATE_KEY_ERROR for write_error in write_errors):
            raise

        duplicate_ids = [write_error.get("op", {}).get("_id") for write_error in write_errors]
        logger.debug(
            "Skipped %d documents in collection %s whose _id already exists: %r",
            len(duplicate_ids),
            collection_name,
            duplicate_ids,
        )
        inserted = details.get("nInserted", len(documents) - len(write_errors))
        return inserted, len(write_errors)
    return len(documents), 0


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        # sys.stderr is None under pythonw, and isatty raises ValueError once it is closed.
        return False

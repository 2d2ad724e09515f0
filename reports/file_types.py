"""Whether an evidence file's content is what its name says (a .pdf really a PDF, not a
program or a web page renamed).

The name's extension decides which types are allowed at all (``reports.forms``); this looks at
the file's first bytes with the ``filetype`` library and, for the zipped office formats, at the
archive's own table of contents. Pure: no Django.
"""

import zipfile
from typing import BinaryIO

import filetype

HEAD_BYTES = 8192  # what filetype reads: enough for every signature it knows

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Word 97-2003 and other compound documents
_SIMPLE = {".pdf": "pdf", ".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".rtf": "rtf"}
# Office Open XML: a zip with [Content_Types].xml and the format's own folder.
_OOXML = {".docx": "word/", ".xlsx": "xl/", ".pptx": "ppt/"}
# OpenDocument: a zip whose "mimetype" entry names the format.
_ODF = {
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
}
_TEXT = {".txt", ".csv"}
_MARKUP = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head")


def _head(file: BinaryIO) -> bytes:
    file.seek(0)
    head = file.read(HEAD_BYTES)
    file.seek(0)
    return head


def _zip_names(file: BinaryIO) -> set[str]:
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return set()
    finally:
        file.seek(0)


def _zip_entry(file: BinaryIO, name: str, limit: int = 200) -> bytes:
    try:
        file.seek(0)
        with zipfile.ZipFile(file) as archive, archive.open(name) as entry:
            return entry.read(limit)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return b""
    finally:
        file.seek(0)


def _looks_like_text(head: bytes) -> bool:
    """Plain text or CSV: no recognised binary signature, no NUL bytes, and not a web page."""
    if filetype.guess_extension(head) is not None or b"\x00" in head:
        return False
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return not start.startswith(_MARKUP)


def content_matches(file: BinaryIO, extension: str) -> bool:
    """True when ``file``'s content is of the type its ``extension`` (".pdf") says."""
    extension = extension.lower()
    head = _head(file)
    found = filetype.guess_extension(head)
    if extension in _SIMPLE:
        return found == _SIMPLE[extension]
    if extension == ".doc":
        return found == "doc" or head.startswith(_OLE2)
    if extension in _OOXML:
        if not head.startswith(b"PK\x03\x04"):
            return False
        names = _zip_names(file)
        folder = _OOXML[extension]
        return "[Content_Types].xml" in names and any(n.startswith(folder) for n in names)
    if extension in _ODF:
        if not head.startswith(b"PK\x03\x04"):
            return False
        return _zip_entry(file, "mimetype").strip() == _ODF[extension].encode("ascii")
    if extension in _TEXT:
        return _looks_like_text(head)
    return False

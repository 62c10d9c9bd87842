"""Adding people from a CSV file (or pasted text): checked first and shown, then added
all together in one write, or nobody at all."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..auth.service import normalise_email
from ..database import writes
from ..errors import Invalid
from ..extensions import db
from ..models import User
from .service import check_email, check_name, closes_loop, find_by_email

MAX_IMPORT_BYTES = 256 * 1024
MAX_IMPORT_ROWS = 2000
# Header names (normalised: lower-case, words separated by one space) for each column.
IMPORT_COLUMNS = {
    "email": {"email", "e mail", "email address", "e mail address", "emailadres", "e mailadres"},
    "name": {"name", "full name", "naam"},
    "manager": {"manager email", "manager e mail", "manager", "manager email address",
                "leidinggevende", "e mail leidinggevende", "email leidinggevende"},
    "locale": {"language", "locale", "taal"},
}
LOCALE_WORDS = {"nl": "nl", "nederlands": "nl", "dutch": "nl", "en": "en", "english": "en", "engels": "en"}


@dataclass
class ImportRow:
    """One line of the file, normalised, with the problems found in it."""

    line: int
    email: str
    name: str
    manager: str
    locale: str | None
    raw_locale: str = ""
    errors: list[Invalid] = field(default_factory=list)


@dataclass
class ImportCheck:
    """The outcome of checking a file: its rows, and problems with the file as a whole."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[Invalid] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors and not any(row.errors for row in self.rows)

    @property
    def rows_with_errors(self) -> int:
        return sum(1 for row in self.rows if row.errors)


def decode_upload(data: bytes) -> str:
    """Text of an uploaded file: UTF-8 (with or without BOM), else Windows-1252 (Excel)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header_key(cell: str) -> str:
    return " ".join("".join(c if c.isalnum() else " " for c in cell.lower()).split())


def _column_for(cell: str) -> str | None:
    key = _header_key(cell)
    return next((column for column, names in IMPORT_COLUMNS.items() if key in names), None)


def _reader(text: str):
    first_line = text.split("\n", 1)[0]
    try:
        dialect = csv.Sniffer().sniff(first_line, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def check_import(text: str) -> ImportCheck:
    """Parse and check a CSV of people (email, name, manager email, language) without writing."""
    result = ImportCheck()
    text = (text or "").lstrip("\ufeff")
    if len(text.encode("utf-8")) > MAX_IMPORT_BYTES:
        result.errors.append(Invalid("import_too_large", f"the file is larger than {MAX_IMPORT_BYTES // 1024} kB",
                                         limit=MAX_IMPORT_BYTES // 1024))
        return result
    if "\x00" in text:
        result.errors.append(Invalid("import_not_text", "this is not a CSV text file"))
        return result
    try:
        lines = list(_numbered(_reader(text)))
    except csv.Error:
        result.errors.append(Invalid("import_not_csv", "the file could not be read as CSV"))
        return result
    if not lines:
        result.errors.append(Invalid("import_empty", "the file is empty"))
        return result

    header_line, header = lines[0]
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        if not cell.strip():
            continue
        column = _column_for(cell)
        if column is None:
            result.errors.append(Invalid("import_column_unknown", f"unknown column {cell!r}", column=cell.strip()))
        elif column in columns:
            result.errors.append(Invalid("import_column_twice", f"column {cell!r} appears twice", column=cell.strip()))
        else:
            columns[column] = index
    for required in ("email", "name"):
        if required not in columns:
            result.errors.append(Invalid(f"import_{required}_column_missing", f"the {required} column is missing"))
    if result.errors:
        return result
    if len(lines) - 1 > MAX_IMPORT_ROWS:
        result.errors.append(Invalid("import_too_many", f"at most {MAX_IMPORT_ROWS} people at a time",
                                         limit=MAX_IMPORT_ROWS))
        return result

    def cell(cells: list[str], column: str) -> str:
        index = columns.get(column)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    for line, cells in lines[1:]:
        if not any(c.strip() for c in cells):
            continue
        raw_locale = cell(cells, "locale")
        row = ImportRow(line=line, email=normalise_email(cell(cells, "email")), name=cell(cells, "name"),
                        manager=normalise_email(cell(cells, "manager")), locale=None, raw_locale=raw_locale)
        if len(cells) > len(header):
            row.errors.append(Invalid("import_too_many_values", "more values than columns"))
        _check_row(row)
        result.rows.append(row)
    if not result.rows:
        result.errors.append(Invalid("import_empty", "the file has no people"))
        return result
    _check_against_each_other(result.rows)
    return result


def _numbered(reader):
    for cells in reader:
        yield reader.line_num, cells


def _check_row(row: ImportRow) -> None:
    try:
        row.email = check_email(row.email)
    except Invalid as error:
        row.errors.append(error)
    try:
        row.name = check_name(row.name)
    except Invalid as error:
        row.errors.append(error)
    word = LOCALE_WORDS.get(row.raw_locale.lower()) if row.raw_locale else None
    if row.raw_locale and word is None:
        row.errors.append(Invalid("import_locale_invalid", f"unknown language {row.raw_locale!r}: use nl or en",
                                      value=row.raw_locale))
    row.locale = word


def _check_against_each_other(rows: list[ImportRow]) -> None:
    """Duplicates, people who exist already, managers, and loops of managers within the file."""
    emails = [row.email for row in rows]
    existing = {
        user.email: user
        for user in db.session.scalars(select(User).where(User.email.in_(set(emails) | {r.manager for r in rows if r.manager})))
    }
    first_line: dict[str, int] = {}
    for row in rows:
        if row.email in first_line:
            row.errors.append(Invalid("import_email_twice", f"{row.email} is also on line {first_line[row.email]}",
                                          line=first_line[row.email]))
        else:
            first_line[row.email] = row.line
        if row.email in existing:
            row.errors.append(Invalid("email_taken", f"a person with email {row.email} already exists"))
    in_file = {row.email: row for row in rows}
    for row in rows:
        if not row.manager:
            continue
        if row.manager == row.email:
            row.errors.append(Invalid("manager_self", "a person cannot be their own manager"))
        elif row.manager in existing:
            if not existing[row.manager].active:
                row.errors.append(Invalid("manager_inactive", f"{row.manager} is deactivated",
                                              name=existing[row.manager].name))
        elif row.manager not in in_file:
            row.errors.append(Invalid("import_manager_unknown",
                                          f"no person with email {row.manager} in the database or the file",
                                          email=row.manager))
    graph = {row.email: row.manager or None for row in rows if row.manager != row.email}
    for row in rows:
        if row.manager and row.manager != row.email and row.manager in in_file:
            chain = closes_loop(graph, row.email, row.manager)
            if chain is not None:
                loop = " → ".join([row.email, *chain])
                row.errors.append(Invalid("import_manager_cycle", f"managers in a loop: {loop}", chain=loop))


@writes
def import_people(text: str) -> list[User]:
    """Check the CSV again and add all its people in one transaction, or nobody at all."""
    check = check_import(text)
    if not check.ok:
        raise Invalid("import_invalid", "the file has problems: nothing was imported")
    added: dict[str, User] = {}
    for row in check.rows:
        added[row.email] = User(email=row.email, name=row.name, locale=row.locale)
        db.session.add(added[row.email])
    for row in check.rows:
        if row.manager:
            added[row.email].manager = added.get(row.manager) or find_by_email(row.manager)
    try:
        db.session.flush()
    except IntegrityError:
        raise Invalid("import_invalid", "someone changed the people meanwhile: nothing was imported") from None
    return list(added.values())

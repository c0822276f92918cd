"""Errors the service raises on purpose.

::

    TriageError
    ├── InputError              a document or request the service cannot use
    │   ├── NotX12Error         the bytes are not an X12 interchange at all
    │   ├── PdfError            a PDF that is encrypted, empty or malformed
    │   └── CsvError            a CSV export with missing columns or bad values
    ├── StoreError              the database could not be opened or migrated
    └── ModelError              the model bundle is missing or does not fit the features

Each message names the file or value at fault and says what to do next.
"""

from __future__ import annotations

__all__ = [
    "CsvError",
    "InputError",
    "ModelError",
    "NotX12Error",
    "PdfError",
    "StoreError",
    "TriageError",
]


class TriageError(Exception):
    """Base class for every error the service raises on purpose."""


class InputError(TriageError):
    """A document or request the service cannot use."""


class NotX12Error(InputError):
    """The file is not an X12 interchange: no ISA header could be found or decoded."""


class PdfError(InputError):
    """A PDF that cannot be opened: encrypted, empty or malformed."""


class CsvError(InputError):
    """A CSV export with missing columns or values that cannot be read."""


class StoreError(TriageError):
    """The store could not be opened, migrated or written."""


class ModelError(TriageError):
    """The model bundle is missing, unreadable or does not match the feature specification."""

"""What the import page says when a file cannot be imported (the checks' own words come from the service)."""

from __future__ import annotations

NOT_THE_FILE = (
    "This is not the file you checked. Choose the file you checked, or select “Check the file” to check this one."
)
CHANGED_WHILE_IMPORTING = (
    "Nothing was imported: the tracker changed while the file was being imported. Check the file again."
)

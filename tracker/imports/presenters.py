"""What the import pages say: messages, status words, and the rules a kept check says were broken."""

from __future__ import annotations

from tracker.imports import service

NOT_THE_FILE = (
    "This is not the file you checked. Choose the file you checked, or select “Check the file” to check this one."
)
CHANGED_WHILE_IMPORTING = (
    "Nothing was imported: the tracker changed while the file was being imported. Check the file again."
)
IN_BACKGROUND = (
    "The file is being checked and imported. This page shows how far it has got: nothing is imported "
    "unless every row is right."
)
APPROVED = "The import is approved: its payments are paid and count from now."
REJECTED = "The import is rejected: its payments are cancelled and do not count. The file can be imported again."
LARGE = (
    "This file has about {rows:,} rows: too many to check while you wait. Select “Import” to check and import "
    "it in the background. You will see how far it has got, and nothing is imported unless every row is right."
)

STATUS_LABELS = {
    "checking": "Being checked",
    "waiting_approval": "Waiting for approval by someone else",
    "approved": "Approved",
    "rejected": "Rejected",
    "failed": "Not imported: it has problems",
    "imported": "Imported",
}


def user_ids(batch) -> list[int]:
    return [i for i in (batch.uploaded_by_id, batch.approved_by_id) if i is not None]


def blocked_rules(snapshot: dict | None) -> str:
    """The rules a payment's kept check says it breaks, in words."""
    return service.broken_rules(snapshot)

"""The audit log: who did what on the coordinator and admin side."""

from __future__ import annotations

import json

from sqlite_utils import Database

from .refdata import now_iso


def record(db: Database, user_id: int | None, action: str, target_type: str = "", target_id: str = "", **detail) -> None:
    """Append one line to the audit log (call inside the write transaction of the action)."""
    db["audit_log"].insert(
        {
            "at": now_iso(),
            "user_id": user_id,
            "action": action,
            "target_type": target_type,
            "target_id": str(target_id),
            "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
        }
    )

"""The append-only audit trail: every change to people, benefit information, money, rules,
roles and tokens, and every view of benefit information."""

"""Storage (docs/operations.md "Retention", "Audit log", "PostgreSQL"): the store over SQLite or
PostgreSQL with its frozen migration steps, group commit, the audit key, private files and the
in-memory face-image cache."""

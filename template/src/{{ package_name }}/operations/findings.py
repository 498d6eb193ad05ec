"""What a check reports: a rule, what breaks it, and how to fix it."""

from dataclasses import asdict, dataclass

RULES = {
    "fk-not-indexed": "every foreign key's columns lead a valid, non-partial index",
    "fk-on-delete-undecided": "every foreign key says ON DELETE CASCADE, RESTRICT or SET NULL",
    "no-primary-key": "every table has a primary key",
    "timestamps": "created_at/updated_at TIMESTAMPTZ NOT NULL, updated_at kept by the trigger",
    "naive-timestamp": "no `timestamp without time zone` column",
    "clear-text-secret": "secrets are stored hashed (a `_hash` column), never in clear",
    "invalid-index": "no INVALID index (a failed concurrent build)",
    "duplicate-index": "no two indexes on the same table with the same definition",
    "stale-exception": "every declared exception still matches a finding",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    table: str
    object: str  # the column, index or constraint; "" for the table itself
    problem: str
    fix: str

    @property
    def target(self) -> str:
        return ".".join(part for part in (self.table, self.object) if part)

    def __str__(self) -> str:
        return f"[{self.rule}] {self.target}: {self.problem}. Fix: {self.fix}"

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "target": self.target}

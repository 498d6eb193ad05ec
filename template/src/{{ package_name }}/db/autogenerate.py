"""Autogenerate rules that make the safe migration the one you get by default.

- A new table with an `updated_at` column gets the `touch_updated_at` trigger in the same
  revision (and loses it in the downgrade).
- An index created or dropped on a table that already exists is built or dropped
  CONCURRENTLY, so writes to a busy table go on; indexes of tables created or dropped in the
  same revision stay plain (nobody is using those tables yet).
- An autogenerate run that finds no change writes no revision.

Alembic's "Customizing Revision Generation" recipes:
https://alembic.sqlalchemy.org/en/latest/api/autogenerate.html#customizing-revision-generation
"""

from collections.abc import Iterable, Sequence
from typing import Any

from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column

HELPERS = f"{__package__}.migration_helpers"


class AttachTouchUpdatedAtOp(ops.MigrateOperation):
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def reverse(self) -> "DetachTouchUpdatedAtOp":
        return DetachTouchUpdatedAtOp(self.table_name)


class DetachTouchUpdatedAtOp(ops.MigrateOperation):
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def reverse(self) -> AttachTouchUpdatedAtOp:
        return AttachTouchUpdatedAtOp(self.table_name)


class CreateIndexConcurrentlyOp(ops.CreateIndexOp):
    """A CreateIndexOp rendered through `create_index_concurrently`."""


class DropIndexConcurrentlyOp(ops.DropIndexOp):
    """A DropIndexOp rendered through `drop_index_concurrently`."""


def _helper_call(autogen_context: AutogenContext, helper: str, arguments: str) -> str:
    autogen_context.imports.add(f"from {HELPERS} import {helper}")
    return f"{helper}({arguments})"


@renderers.dispatch_for(AttachTouchUpdatedAtOp)
def _render_attach(autogen_context: AutogenContext, op: AttachTouchUpdatedAtOp) -> str:
    return _helper_call(autogen_context, "attach_touch_updated_at", repr(op.table_name))


@renderers.dispatch_for(DetachTouchUpdatedAtOp)
def _render_detach(autogen_context: AutogenContext, op: DetachTouchUpdatedAtOp) -> str:
    return _helper_call(autogen_context, "detach_touch_updated_at", repr(op.table_name))


def _render_as(helper: str, plain: type[ops.MigrateOperation], op_name: str) -> Any:
    """Render like Alembic's own `op.<op_name>(...)`, calling `helper` with the same arguments."""

    def render(autogen_context: AutogenContext, op: ops.MigrateOperation) -> str:
        rendered: str = renderers.dispatch(plain)(autogen_context, op)
        prefix = f"op.{op_name}("
        assert rendered.startswith(prefix), rendered
        return _helper_call(autogen_context, helper, rendered[len(prefix) : -1])

    return render


renderers.dispatch_for(CreateIndexConcurrentlyOp)(
    _render_as("create_index_concurrently", ops.CreateIndexOp, "create_index")
)
renderers.dispatch_for(DropIndexConcurrentlyOp)(
    _render_as("drop_index_concurrently", ops.DropIndexOp, "drop_index")
)


def _has_updated_at(create: ops.CreateTableOp) -> bool:
    return any(isinstance(c, Column) and c.name == "updated_at" for c in create.columns)


def _concurrent(op: ops.MigrateOperation) -> ops.MigrateOperation:
    if isinstance(op, ops.CreateIndexOp):
        return CreateIndexConcurrentlyOp.from_index(op.to_index())
    if isinstance(op, ops.DropIndexOp):
        return DropIndexConcurrentlyOp.from_index(op.to_index())
    return op


def _rewrite(operations: Iterable[ops.MigrateOperation]) -> list[ops.MigrateOperation]:
    """Rewrite one direction (upgrade or downgrade) of a revision."""
    operations = list(operations)
    # Tables this direction creates or drops: nobody else is using them, plain DDL is fine.
    fresh = {
        op.table_name for op in operations if isinstance(op, ops.CreateTableOp | ops.DropTableOp)
    }
    rewritten: list[ops.MigrateOperation] = []
    for op in operations:
        if isinstance(op, ops.DropTableOp) and "updated_at" in op.to_table().columns:
            rewritten.append(DetachTouchUpdatedAtOp(op.table_name))
        if isinstance(op, ops.ModifyTableOps) and op.table_name not in fresh:
            op.ops = [_concurrent(inner) for inner in op.ops]
        rewritten.append(op)
        if isinstance(op, ops.CreateTableOp) and _has_updated_at(op):
            rewritten.append(AttachTouchUpdatedAtOp(op.table_name))
    return rewritten


def process_revision_directives(
    context: MigrationContext,
    revision: str | Iterable[str | None] | Iterable[str],
    directives: list[ops.MigrationScript],
) -> None:
    """The `process_revision_directives` hook that env.py passes to `context.configure`."""
    script = directives[0]
    if script.upgrade_ops is None or script.upgrade_ops.is_empty():
        directives[:] = []
        return
    upgrade_ops: Sequence[ops.UpgradeOps] = script.upgrade_ops_list
    downgrade_ops: Sequence[ops.DowngradeOps] = script.downgrade_ops_list
    for upgrade in upgrade_ops:
        upgrade.ops = _rewrite(upgrade.ops)
    for downgrade in downgrade_ops:
        downgrade.ops = _rewrite(downgrade.ops)

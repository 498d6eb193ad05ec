"""Autogenerate rules that make the safe migration the one you get by default.

- A new table with an `updated_at` column gets the `touch_updated_at` trigger in the same
  revision (and loses it in the downgrade).
- An index created or dropped on a table that already exists is built or dropped
  CONCURRENTLY, so writes to a busy table go on; indexes of tables created or dropped in the
  same revision stay plain (nobody is using those tables yet).
- Concurrent builds cannot run in a transaction, so they commit what ran before them: when a
  revision would mix them with other changes, they move to a revision of their own that
  follows it, and a failed build never leaves a revision half-applied.
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
from alembic.util import rev_id
from sqlalchemy import Column

HELPERS = f"{__package__}.helpers"


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

    def reverse(self) -> ops.DropIndexOp:
        return DropIndexConcurrentlyOp.from_index(self.to_index())


class DropIndexConcurrentlyOp(ops.DropIndexOp):
    """A DropIndexOp rendered through `drop_index_concurrently`."""

    def reverse(self) -> ops.CreateIndexOp:
        return CreateIndexConcurrentlyOp.from_index(self.to_index())


CONCURRENT_OPS = (CreateIndexConcurrentlyOp, DropIndexConcurrentlyOp)


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
    if len(upgrade_ops) == 1:
        concurrent = _split_off_concurrent(script)
        if concurrent is not None:
            directives.append(concurrent)


def _partition(
    operations: list[ops.MigrateOperation],
) -> tuple[list[ops.MigrateOperation], list[ops.MigrateOperation]]:
    """(everything else, the concurrent index operations), keeping their order."""
    rest: list[ops.MigrateOperation] = []
    concurrent: list[ops.MigrateOperation] = []
    for op in operations:
        inner = op.ops if isinstance(op, ops.ModifyTableOps) else []
        moved = [o for o in inner if isinstance(o, CONCURRENT_OPS)]
        if isinstance(op, ops.ModifyTableOps) and moved:
            concurrent.append(ops.ModifyTableOps(op.table_name, moved, schema=op.schema))
            kept = [o for o in inner if not isinstance(o, CONCURRENT_OPS)]
            if kept:
                rest.append(ops.ModifyTableOps(op.table_name, kept, schema=op.schema))
        else:
            rest.append(op)
    return rest, concurrent


def _split_off_concurrent(script: ops.MigrationScript) -> ops.MigrationScript | None:
    """Move concurrent index operations mixed with other changes into a revision after it."""
    assert script.upgrade_ops is not None
    assert script.downgrade_ops is not None
    rest, concurrent = _partition(script.upgrade_ops.ops)
    if not rest or not concurrent:
        return None
    script.upgrade_ops.ops = rest
    script.downgrade_ops.ops = _partition(script.downgrade_ops.ops)[0]
    upgrade = ops.UpgradeOps(concurrent)
    return ops.MigrationScript(
        rev_id=rev_id(),
        message=f"{script.message} (concurrent indexes)",
        imports=set(),
        upgrade_ops=upgrade,
        downgrade_ops=upgrade.reverse(),
        head=script.rev_id,
        splice=False,
        branch_label=None,
        version_path=script.version_path,
        depends_on=None,
    )

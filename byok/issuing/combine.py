"""Group commit of counted validations on the server databases: while one batch's query is in
flight, the counted uses that arrive on the same event loop queue, and the next query carries all
of them in one transaction (batches.py: PostgreSQL's one UPDATE … FROM json_to_recordset(…)
RETURNING, MySQL's compare-and-swap and read back per key), so concurrent requests of one
process share a round trip and a commit. The query runs on the event loop itself, on the loop's
own connection (core/onloop.py): no thread hop, no pool thread (a fastsql Database given as is,
not opened by byok, or MySQL over TLS: in a pool thread, as before). A batch names each key
once: plain counts of a key add up in its row (`n`), a use that spends its limits waits for the
batch after. No timer: a use that finds nothing in flight starts its query at once; after a
batch the drain lets the loop turn once before taking the next.

Each waiter learns its own row's answer: counted, or not matched (its version or day changed:
`admit` takes it again, from a fresh read). An error of the statement reaches every waiter of
the batch as the same StorageError a single write gives; the drain always releases them.
"""

from __future__ import annotations

import asyncio

from ..core.pool import Pooled, in_pool_thread
from .batches import Batches
from .context import Context

__all__ = ["Combiner"]

Counted = tuple | None  # a row's (use_count, usage_count, prev_day, prev_count), None: no match
Waiting = tuple[dict, list[asyncio.Future]]  # one row of a batch, and its uses' waiters in order


class _Queue:
    """The uses of one event loop: the next batch (by key id) and those that cannot join it."""

    __slots__ = ("busy", "later", "next", "task")

    def __init__(self) -> None:
        self.next: dict[str, Waiting] = {}  # the next batch, by key id
        self.later: list[tuple[dict, asyncio.Future]] = []  # a key's uses that cannot join it
        self.busy = False  # a drain runs (it takes `next` when its statement is done)
        self.task: asyncio.Task | None = None  # that drain (asyncio keeps only a weak reference)

    def add(self, params: dict, done: asyncio.Future) -> None:
        """Queue one use: in the next batch; a plain count joins its key's row there (bench
        "counted validate_key of ONE key, c = 16": counted `n` at once); any other repeat of a
        key waits for the batch after."""
        held = self.next.get(params["kid"])
        if held is None:
            self.next[params["kid"]] = ({**params, "n": 1}, [done])
        elif _joins(held[0], params):
            held[0]["n"] += 1
            held[0]["now"] = params["now"]  # last_used_at: the latest use's
            held[1].append(done)
        else:
            self.later.append((params, done))

    def take(self) -> list[Waiting]:
        """The next batch; the uses waiting for it move up."""
        batch, self.next = list(self.next.values()), {}
        later, self.later = self.later, []
        for params, done in later:
            self.add(params, done)
        return batch


def _joins(
    row: dict,  # a key's row in the next batch
    params: dict,  # another use of that key
) -> bool:
    """Plain counts (no limit spent) of the same version and day add up in one row."""
    return not (row["bump"] or params["bump"]) and (row["v"], row["day"]) == (
        params["v"],
        params["day"],
    )


class Combiner:
    """Runs the counted uses of one issuer in batches, one statement per batch per event loop."""

    def __init__(
        self,
        ctx: Context,  # the issuer's database and tables
        batches: Batches,  # how its database counts a batch
    ):
        self.ctx, self.batches = ctx, batches
        self._queues: dict[asyncio.AbstractEventLoop, _Queue] = {}  # loops with uses in flight
        # bench "HTTP wrk, PostgreSQL, counted validate_key … c = 16": the statement on the loop
        self._on_loop = ctx.db.on_loop() if isinstance(ctx.db, Pooled) else None

    def count(
        self,
        params: dict,  # one key's `store.BATCH` values
    ) -> asyncio.Future[Counted]:
        """Count one use in the next batch: a future of its row's counters after it, None when
        it matched nothing (StorageError when the batch's statement failed). A plain function
        (bench "HTTP wrk, PostgreSQL, counted validate_key … c = 16"): no coroutine per use."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        done = loop.create_future()
        queue.add(params, done)
        if not queue.busy:
            queue.busy = True
            queue.task = loop.create_task(self._drain(loop, queue))
        return done

    async def _drain(self, loop: asyncio.AbstractEventLoop, queue: _Queue) -> None:
        """Run batches until none is waiting; every waiter is answered, even on cancellation."""
        batch: list[Waiting] = []
        try:
            while queue.next:
                batch = queue.take()
                try:
                    found = await self._run([row for row, _ in batch])
                except Exception as e:  # the StorageError a single write gives, to each waiter
                    _answer(batch, error=e)
                else:
                    _answer(batch, found=found)
                batch = []
                # one loop turn before the next batch: the answered requests send their
                # responses and the requests received meanwhile are staged, so the next
                # statement carries them too (bench "HTTP wrk, PostgreSQL, counted
                # validate_key … c = 16": ~6 -> ~8 uses a statement); not a timer
                await asyncio.sleep(0)
        except BaseException:  # cancelled (the loop is closing): nobody is left waiting
            left = [*batch, *queue.next.values(), *((p, [d]) for p, d in queue.later)]
            queue.next, queue.later = {}, []
            for _, waiters in left:
                for done in waiters:
                    done.cancel()
            raise
        finally:
            queue.busy, queue.task = False, None
            if self._queues.get(loop) is queue and not queue.next:
                del self._queues[loop]

    async def _run(
        self,
        rows: list[dict],  # one batch's rows (distinct keys)
    ) -> dict[str, tuple]:
        """One batch's statement, its own transaction; by key id, the counters of each row it
        counted (StorageError when it failed)."""
        if self._on_loop is None:
            return await in_pool_thread(self.ctx.db, self._in_thread, rows)
        call = self.batches(rows)
        return call.found(await self._on_loop.rows(call.sql, call.params, "validate"))

    def _in_thread(self, rows: list[dict]) -> dict[str, tuple]:
        """`_run` in a pool thread, on a connection of the database's own."""
        t = self.ctx.tables
        with self.ctx.guard("validate"):
            call = self.batches(rows)
            return call.found(call.run(t.db.conn.connection.driver_connection, t.dialect))


def _answer(
    batch: list[Waiting],  # the rows and their waiters
    *,
    found: dict[str, tuple] | None = None,  # the statement's rows by key id, when it ran
    error: Exception | None = None,  # else its error
) -> None:
    """Answer every waiter still waiting (one whose request was cancelled is skipped); the
    uses of one row each learn their own counters, the last one the row's. In arrival order:
    the waiters resume in it, so the last use's counters are the ones cached."""
    for row, waiters in batch:
        counted = None if error is not None else found.get(row["kid"])
        last = len(waiters) - 1
        for i, done in enumerate(waiters):
            before = last - i  # uses after this one in the row
            if done.done():
                continue
            if error is not None:
                done.set_exception(error)
            elif counted is None or not before:
                done.set_result(counted)
            else:
                done.set_result((counted[0] - before, counted[1] - before, *counted[2:]))

"""What one request through the key routes costs storage, counted: SQL statements (SQLAlchemy's
cursor events on the manager's engine, and the compiled statements the storage runs on the
driver's connection, through `Dialect.run`) and thread-pool trips (`anyio.to_thread.run_sync`, which
Starlette's `run_in_threadpool` calls), on SQLite and PostgreSQL, database and hybrid storage.

The bars (issue 10): a save is 2 statements (one read, one write) in at most 1 trip, its card
and key count drawn from what `set_key` returned; the dashboard is 1 storage read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from byok.components.wiring import DASHBOARD_HEADER, SUMMARY_ID, dashboard_header_value
from byok.core.types import BYOKConfig, StorageBackend
from tests.support.routes import ANTHROPIC_KEY, OPENAI_KEY, PREFIX, PROVIDERS, Page, make_app
from tests.support.statements import StatementLog

pytestmark = pytest.mark.filterwarnings("ignore:byok. API keys travel over plain HTTP")

SHOWN = {DASHBOARD_HEADER: dashboard_header_value(PROVIDERS)}  # sent from inside the dashboard


class Costs:
    """The SQL statements and thread-pool trips since the last `take()`."""

    def __init__(self, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch):
        self.statements = StatementLog(engine, monkeypatch)
        self.trips = 0
        real = anyio.to_thread.run_sync

        async def counted(func: Any, *args: Any, **kwargs: Any) -> Any:
            self.trips += 1
            return await real(func, *args, **kwargs)

        monkeypatch.setattr(anyio.to_thread, "run_sync", counted)

    def take(self) -> tuple[list[str], int]:
        """(statement verbs, trips) since the last call."""
        trips, self.trips = self.trips, 0
        return self.statements.take(), trips


@pytest.fixture(params=[StorageBackend.DATABASE, StorageBackend.HYBRID], ids=lambda b: b.value)
def tab(
    request: pytest.FixtureRequest, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Page, Costs]]:
    """A signed-in tab on a database-backed app (SQLite and PostgreSQL), warmed up (its CSRF
    token read, the user's expiry sweep done), and the counters."""
    app, manager, _ = make_app(
        db=db_url,
        user_id_func=lambda req: "alice",
        config=BYOKConfig(storage_backend=request.param),
    )
    page = Page(app)
    page.token()
    costs = Costs(manager.database.db.engine, monkeypatch)
    # PostgreSQL: a provider's first key is a default save, which takes its lock first
    costs.save = ["SELECT", "INSERT"]
    if manager.database.db.engine.dialect.name == "postgresql":
        costs.save = ["SELECT", "LOCK", "INSERT"]
    if manager.database.db.engine.dialect.name == "mysql":  # no upsert inside an UPDATE: the
        # upsert, then the flags, between a named lock and its release (still one trip)
        costs.save = ["SELECT", "LOCK", "INSERT", "UPDATE", "UNLOCK"]
    yield page, costs
    manager.database.close()


def _card(response: Any, provider: str) -> Any:
    return BeautifulSoup(response.text, "html.parser").find(id=f"byok-card-{provider}")


def test_a_save_is_two_statements_in_one_trip(tab: tuple[Page, Costs]) -> None:
    page, costs = tab
    response = page.save("openai", OPENAI_KEY, headers=SHOWN)
    assert response.status_code == 200, response.text[:300]
    assert costs.take() == (costs.save, 1)
    card = _card(response, "openai")
    assert card["data-byok-card"] != "empty" and OPENAI_KEY[-4:] in card.text
    assert OPENAI_KEY not in response.text
    summary = BeautifulSoup(response.text, "html.parser").find(id=SUMMARY_ID)
    assert "1 of 3" in summary.text  # the count, from what set_key returned
    again = page.save("anthropic", ANTHROPIC_KEY, headers=SHOWN)
    assert costs.take() == (costs.save, 1)
    assert "2 of 3" in BeautifulSoup(again.text, "html.parser").find(id=SUMMARY_ID).text


def test_a_json_save_costs_the_same(tab: tuple[Page, Costs]) -> None:
    page, costs = tab
    response = page.save("openai", OPENAI_KEY, htmx=False, headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.json()["stored"] is True
    assert costs.take() == (costs.save, 1)


def test_the_dashboard_is_one_read(tab: tuple[Page, Costs]) -> None:
    page, costs = tab
    page.save("openai", OPENAI_KEY)
    page.save("anthropic", ANTHROPIC_KEY)
    costs.take()
    for headers in ({"HX-Request": "true"}, {}, {"Accept": "application/json"}):
        response = page.client.get(PREFIX, headers=headers)
        assert response.status_code == 200, headers
        assert costs.take() == (["SELECT"], 1), headers
    rows = {r["provider"]: r["stored"] for r in response.json()["providers"]}
    assert rows == {"openai": True, "anthropic": True, "google": False}


def test_a_delete_is_the_write_and_one_read_in_one_trip(tab: tuple[Page, Costs]) -> None:
    page, costs = tab
    page.save("openai", OPENAI_KEY)
    page.save("anthropic", ANTHROPIC_KEY)
    costs.take()
    response = page.send("DELETE", f"{PREFIX}/openai", headers=SHOWN)
    assert response.status_code == 200
    assert costs.take() == (["SELECT", "DELETE", "SELECT"], 1)  # delete_key's, then the card's
    assert _card(response, "openai")["data-byok-card"] == "empty"
    assert "1 of 3" in BeautifulSoup(response.text, "html.parser").find(id=SUMMARY_ID).text

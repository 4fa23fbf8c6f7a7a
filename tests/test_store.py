"""The store, one shared test class run against SQLite and PostgreSQL (``store`` fixture)."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from data.records import (
    PUBLIC_MODELS,
    Challenge,
    Contact,
    Decision,
    DecisionAction,
    Need,
    Suggestion,
    SuggestionStatus,
    Talent,
)
from data.store import (
    ENTITIES,
    ConstraintError,
    DuplicateIdError,
    NotFoundError,
    Store,
    VersionConflict,
    repository,
    rows,
)
from data.store.tables import contacts, decisions, metadata, records
from tests.factories import (
    make_challenge,
    make_contact,
    make_decision,
    make_enterprise,
    make_need,
    make_project,
    make_suggestion,
    make_talent,
)

TABLES = {"records", "contacts", "suggestions", "decisions", "runs", "events"}


def table_rows(store: Store, table: sa.Table) -> list[sa.Row]:
    """Every row of ``table``, ordered by its primary key."""
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(table).order_by(*table.primary_key.columns)))


class TestStore:
    """Behaviour every backend must share."""

    # -- migrations ---------------------------------------------------------------------

    def test_open_migrates_to_head(self, store: Store) -> None:
        assert store.revision == Store.head_revision() is not None
        names = set(sa.inspect(store.engine).get_table_names())
        assert TABLES | {"alembic_version"} <= names

    def test_migration_matches_tables_module(self, store: Store) -> None:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []

    def test_reopen_keeps_data_and_migrate_is_idempotent(self, store_url: str) -> None:
        with Store.open(store_url) as first:
            first.upsert("talents", [make_talent(1)])
            assert first.migrate() == Store.head_revision()
        with Store.open(store_url) as again:
            assert again.revision == Store.head_revision()
            assert again.count("talents") == 1
            assert again.get_contact("talents", "T000001") == make_contact(1)

    # -- upsert -------------------------------------------------------------------------

    def test_round_trip_every_entity(self, store: Store) -> None:
        stamp = dt.datetime(2025, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=8)))
        made = {
            "talents": make_talent(1, updated_at=stamp),
            "enterprises": make_enterprise(1, updated_at=stamp),
            "needs": make_need(1, deadline=dt.date(2025, 12, 31), budget=12.5),
            "challenges": make_challenge(1, team_size=(2, 4), eligibility={"min_months_on_site": 3}),
            "projects": make_project(1),
        }
        for entity, record in made.items():
            store.upsert(entity, [record])
            expected = PUBLIC_MODELS[entity].model_validate(record.model_dump(exclude={"contact"}))
            assert store.get(entity, record.id) == expected  # type: ignore[attr-defined]

    def test_upsert_accounting(self, store: Store) -> None:
        first = store.upsert("talents", [make_talent(i) for i in range(3)])
        assert first.inserted == ["T000000", "T000001", "T000002"]
        assert first.counts == {"inserted": 3, "updated": 0, "unchanged": 0}
        batch = [make_talent(0), make_talent(1, name="改名"), make_talent(3)]
        second = store.upsert("talents", batch)
        assert (second.inserted, second.updated, second.unchanged) == (
            ["T000003"], ["T000001"], ["T000000"]
        )
        assert second.written == 2
        talent = store.get("talents", "T000001")
        assert talent is not None and talent.name == "改名"  # type: ignore[attr-defined]
        assert store.count("talents") == 4

    @pytest.mark.parametrize("full_scan_min", [1, 2000])
    def test_reupsert_identical_writes_nothing(
        self, store: Store, full_scan_min: int, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(repository, "FULL_SCAN_MIN", full_scan_min)
        batch = [make_talent(i) for i in range(1200)]  # several chunks
        assert store.upsert("talents", batch).counts["inserted"] == 1200
        before = table_rows(store, records)
        again = store.upsert("talents", [make_talent(i) for i in range(1200)])
        assert again.counts == {"inserted": 0, "updated": 0, "unchanged": 1200}
        assert table_rows(store, records) == before

    def test_update_keeps_created_at(self, store: Store) -> None:
        store.upsert("needs", [make_need(1)])
        (created,) = table_rows(store, records)
        store.upsert("needs", [make_need(1, title="新标题")])
        (updated,) = table_rows(store, records)
        assert updated.created_at == created.created_at
        assert updated.updated_at >= created.updated_at
        assert updated.content_hash != created.content_hash

    def test_upsert_accepts_public_models_and_mappings(self, store: Store) -> None:
        public = Talent.model_validate(make_talent(1).model_dump(exclude={"contact"}))
        mapping = make_talent(2).model_dump()
        result = store.upsert("talents", [public, mapping])
        assert result.inserted == ["T000001", "T000002"]
        assert store.get_contact("talents", "T000001") is None
        assert store.get_contact("talents", "T000002") == make_contact(2)

    def test_duplicate_ids_in_batch_write_nothing(self, store: Store) -> None:
        with pytest.raises(DuplicateIdError, match="T000001"):
            store.upsert("talents", [make_talent(1), make_talent(2), make_talent(1)])
        assert store.count("talents") == 0

    def test_summary_columns(self, store: Store) -> None:
        store.upsert("talents", [make_talent(0, chains=["尼龙新材料", "硅碳新材料"])])
        (row,) = table_rows(store, records)
        assert (row.entity, row.category, row.county) == ("talents", "党政军群及事业单位", "叶县")
        assert row.chain == "尼龙新材料|硅碳新材料"

    # -- contacts -----------------------------------------------------------------------

    def test_contact_is_split_off(self, store: Store) -> None:
        store.upsert("talents", [make_talent(7)])
        store.upsert("enterprises", [make_enterprise(2)])
        talent = store.get("talents", "T000007")
        assert type(talent) is Talent and not hasattr(talent, "contact")
        assert store.get_contact("talents", "T000007") == make_contact(7)
        assert store.get_contact("enterprises", "E0002") == make_contact(10_002)
        for row in table_rows(store, records):
            text = rows.canonical_json(row.data)
            assert "contact" not in row.data and "@example.com" not in text
            assert "138" not in text and "wx_" not in text
        assert len(table_rows(store, contacts)) == 2

    def test_contact_change_is_an_update(self, store: Store) -> None:
        store.upsert("talents", [make_talent(1)])
        new_contact = Contact(phone="13900000000")
        changed = store.upsert("talents", [make_talent(1, contact=new_contact)])
        assert changed.updated == ["T000001"]
        assert store.get_contact("talents", "T000001") == new_contact
        removed = store.upsert("talents", [make_talent(1, contact=None)])
        assert removed.updated == ["T000001"]
        assert store.get_contact("talents", "T000001") is None
        assert store.get_contact("needs", "N0000") is None

    # -- transactions -------------------------------------------------------------------

    def test_failed_insert_rolls_back_whole_call(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self._break_hash_of(monkeypatch, "T000004")
        with pytest.raises(ConstraintError):
            store.upsert("talents", [make_talent(i) for i in range(5)])
        assert store.count("talents") == 0
        assert table_rows(store, contacts) == []

    def test_failed_update_rolls_back_whole_call(
        self, store: Store, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store.upsert("talents", [make_talent(i) for i in range(5)])
        before = table_rows(store, records), table_rows(store, contacts)
        self._break_hash_of(monkeypatch, "T000004")
        renamed = [make_talent(i, name=f"新{i}", contact=None) for i in range(5)]
        with pytest.raises(ConstraintError):
            store.upsert("talents", renamed)
        assert (table_rows(store, records), table_rows(store, contacts)) == before

    @staticmethod
    def _break_hash_of(monkeypatch: pytest.MonkeyPatch, bad_id: str) -> None:
        """Small chunks, and a NULL content hash (a NOT NULL violation) for ``bad_id``."""
        monkeypatch.setattr(repository, "CHUNK_SIZE", 2)
        real = rows.content_hash
        monkeypatch.setattr(
            rows, "content_hash", lambda dump: None if dump["id"] == bad_id else real(dump)
        )

    # -- reading, counting, deleting ----------------------------------------------------

    def test_counts_keep_challenges_apart_from_needs(self, store: Store) -> None:
        store.upsert("needs", [make_need(i) for i in range(2)])
        store.upsert("challenges", [make_challenge(i) for i in range(3)])
        store.upsert("projects", [make_project(0)])
        assert store.counts() == {
            "talents": 0, "enterprises": 0, "needs": 2, "challenges": 3, "projects": 1
        }
        challenge = store.get("challenges", "C0001")
        assert type(challenge) is Challenge and challenge.list_no == "2025-001"
        assert type(store.get("needs", "N0001")) is Need
        assert store.get("needs", "C0001") is None

    def test_iter_and_ids_in_byte_order(self, store: Store) -> None:
        raw = ["b", "A", "a", "B", "a-1", "a_1", "a.1", "Z9", "a1", "0x"]
        store.upsert("needs", [make_need(0, id=i) for i in raw])
        assert store.ids("needs") == sorted(raw)
        for size in (1, 3, 10, 1000):
            got = [n.id for n in store.iter("needs", batch_size=size)]  # type: ignore[attr-defined]
            assert got == sorted(raw)
        assert list(store.iter("talents")) == []

    def test_delete(self, store: Store) -> None:
        store.upsert("talents", [make_talent(i) for i in range(4)])
        assert store.delete("talents", ["T000001", "T000003", "nope"]) == 2
        assert store.ids("talents") == ["T000000", "T000002"]
        assert {r.id for r in table_rows(store, contacts)} == {"T000000", "T000002"}
        assert store.delete("needs", ["T000000"]) == 0
        assert store.get("talents", "T000001") is None

    def test_unknown_entity_lists_entities(self, store: Store) -> None:
        calls = [
            lambda: store.upsert("people", []),
            lambda: store.get("people", "x"),
            lambda: store.iter("people"),
            lambda: store.count("people"),
            lambda: store.delete("people", []),
        ]
        for call in calls:
            with pytest.raises(ValueError, match="talents, enterprises, needs"):
                call()
        assert set(ENTITIES) == set(store.counts())

    # -- suggestions and decisions ------------------------------------------------------

    def test_add_and_get_suggestions(self, store: Store) -> None:
        assert store.add_suggestions([make_suggestion(i) for i in range(3)]) == 3
        got = store.get_suggestion("S0001")
        assert got == make_suggestion(1)
        assert store.get_suggestion("nope") is None
        assert [s.id for s in store.suggestions(need_id="N0000")] == ["S0000", "S0001", "S0002"]
        with pytest.raises(DuplicateIdError, match="S0002"):
            store.add_suggestions([make_suggestion(3), make_suggestion(2)])
        assert store.get_suggestion("S0003") is None

    def test_decide_sets_status_and_bumps_version(self, store: Store) -> None:
        store.add_suggestions([make_suggestion(1)])
        after = store.decide("S0001", 1, make_decision("S0001", 1, action=DecisionAction.defer))
        assert (after.status, after.version) == (SuggestionStatus.deferred, 2)
        after = store.decide("S0001", 2, make_decision("S0001", 2, action=DecisionAction.reject))
        assert (after.status, after.version) == (SuggestionStatus.rejected, 3)
        assert store.get_suggestion("S0001") == after
        assert [d.id for d in store.decisions("S0001")] == ["D0001", "D0002"]
        assert store.decisions("S0001")[0] == make_decision("S0001", 1, action="defer")

    def test_stale_version_raises_and_writes_nothing(self, store: Store) -> None:
        store.add_suggestions([make_suggestion(1)])
        store.decide("S0001", 1, make_decision("S0001", 1))
        with pytest.raises(VersionConflict) as caught:
            store.decide("S0001", 1, make_decision("S0001", 2, action=DecisionAction.reject))
        assert (caught.value.expected, caught.value.actual) == (1, 2)
        assert [d.id for d in store.decisions()] == ["D0001"]
        assert store.get_suggestion("S0001").status == SuggestionStatus.approved  # type: ignore[union-attr]

    def test_concurrent_decides_one_wins(self, store: Store) -> None:
        store.add_suggestions([make_suggestion(1)])
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def review(i: int) -> None:
            barrier.wait()
            try:
                store.decide("S0001", 1, make_decision("S0001", i))
                outcomes.append("won")
            except VersionConflict:
                outcomes.append("conflict")

        threads = [threading.Thread(target=review, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["conflict", "won"]
        assert len(table_rows(store, decisions)) == 1
        assert store.get_suggestion("S0001").version == 2  # type: ignore[union-attr]

    def test_decide_errors(self, store: Store) -> None:
        with pytest.raises(NotFoundError):
            store.decide("S0009", 1, make_decision("S0009"))
        store.add_suggestions([make_suggestion(1)])
        with pytest.raises(ValueError, match="S0002"):
            store.decide("S0001", 1, make_decision("S0002"))
        store.decide("S0001", 1, make_decision("S0001", 1))
        with pytest.raises(ConstraintError):  # decision ids are unique: audit rows are not replaced
            store.decide("S0001", 2, make_decision("S0001", 1))
        assert store.get_suggestion("S0001").version == 2  # type: ignore[union-attr]


class TestSQLite:
    """SQLite-only settings."""

    def test_wal_foreign_keys_and_parent_dirs(self, tmp_path: Path) -> None:
        path = tmp_path / "a" / "b" / "tm.db"
        with Store.open(f"sqlite:///{path}") as store, store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert path.exists()

    def test_in_memory(self) -> None:
        with Store.open("sqlite://") as store:
            store.upsert("projects", [make_project(1)])
            assert store.counts()["projects"] == 1

    def test_unsupported_url(self) -> None:
        with pytest.raises(ValueError, match="sqlite:///path"):
            Store.open("mysql://u@h/db")


class TestRuns:
    """Runs as records: parameters, result, and no duplicate open suggestions."""

    def _suggestion(self, sid: str, need: str, talent: str, run: str) -> Suggestion:
        return Suggestion(id=sid, need_id=need, talent_id=talent, score=0.5, run_id=run,
                          work_group="tech_return")

    def test_run_round_trip_and_no_duplicate_open_suggestions(self, store: Store) -> None:
        first = store.add_run(
            {"id": "R1", "kind": "pairing", "started_by": "tester", "params": {"max_load": 3},
             "solver": "flow", "objective": 1.5, "duration_s": 0.1, "partial": True,
             "result": {"messages": ["需求 N1 缺少候选"]}},
            [self._suggestion("S1", "N1", "T1", "R1"), self._suggestion("S2", "N1", "T2", "R1")])
        assert first == {"added": 2, "kept_open": []}
        run = store.get_run("R1")
        assert run is not None and run["partial"] is True and run["solver"] == "flow"
        assert run["params"] == {"max_load": 3}
        assert run["result"]["messages"] == ["需求 N1 缺少候选"]
        store.decide("S2", 1, Decision(id="D1", suggestion_id="S2", actor="a", action="reject",
                                       reason="不合适", at=dt.datetime.now(dt.UTC)))
        second = store.add_run(
            {"id": "R2", "kind": "pairing", "params": {}, "solver": "flow"},
            [self._suggestion("S3", "N1", "T1", "R2"), self._suggestion("S4", "N1", "T2", "R2")])
        assert second == {"added": 1, "kept_open": ["S1"]}
        assert {s.id for s in store.suggestions(need_id="N1")} == {"S1", "S2", "S4"}
        assert {r["id"] for r in store.runs("pairing")} == {"R1", "R2"}
        assert store.revision == Store.head_revision()


def test_get_many_reads_known_ids(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'm.db'}")
    made = [make_talent(i) for i in range(3)]
    store.upsert("talents", made)
    got = store.get_many("talents", [made[0].id, made[2].id, "missing", made[0].id])
    assert sorted(got) == sorted([made[0].id, made[2].id])
    assert got[made[2].id].name == made[2].name


def test_iter_where_filters_in_sql(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    made = [make_talent(i) for i in range(8)]
    store.upsert("talents", made)
    county = made[1].hometown_county
    got = [t.id for t in store.iter_where("talents", {"county": county}, batch_size=2)]
    assert got == [t.id for t in made if t.hometown_county == county]
    chain = made[0].chains[0]
    by_chain = {t.id for t in store.iter_where("talents", {"chain": chain})}
    assert by_chain == {t.id for t in made if chain in t.chains}
    assert not list(store.iter_where("talents", {"chain": chain[:1] + "不存在"}))
    with pytest.raises(ValueError, match="cannot filter"):
        list(store.iter_where("talents", {"name": "x"}))

"""A bounded read-through cache of store records, checked against the stored content hash.

A cache-miss match reads its ~200 retrieved talents; decoding and validating their JSON cost
more than ranking them. :class:`RecordCache` asks the store for the ids' content hashes (one
small query, no JSON) and reads the data only of records that are new to the cache or whose
hash changed since they were read, so an edited talent is never served stale. The same
record object is returned while it is unchanged, which also lets the matcher keep its
per-talent facts (:class:`matching.pool.FactsCache`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from data.records import Record
    from data.store import Store

RECORDS_CACHE_SIZE = 20_000
"""Records kept per cache (LRU); about 3 KB each for a sample talent."""


class RecordCache:
    """Records of one entity by id, LRU-bounded, validated by content hash on every read.

    Args:
        store: the store.
        entity: the entity (e.g. ``talents``).
        size: how many records to keep.
    """

    def __init__(self, store: Store, entity: str, size: int = RECORDS_CACHE_SIZE) -> None:
        self.store, self.entity, self.size = store, entity, size
        self._data: OrderedDict[str, tuple[str, Record]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.reads = 0

    def __len__(self) -> int:
        return len(self._data)

    def get_many(self, ids: Sequence[str]) -> dict[str, Record]:
        """The records of ``ids`` that exist (as :meth:`data.store.Store.get_many`).

        Args:
            ids: stable ids.

        Returns:
            id → record, in the order of ``ids``.
        """
        hashes = self.store.content_hashes(self.entity, ids)
        found: dict[str, Record] = {}
        missing: list[str] = []
        with self._lock:
            for i in dict.fromkeys(ids):
                if i not in hashes:
                    continue
                entry = self._data.get(i)
                if entry is not None and entry[0] == hashes[i]:
                    self._data.move_to_end(i)
                    found[i] = entry[1]
                else:
                    missing.append(i)
        fresh = self.store.get_many(self.entity, missing) if missing else {}
        with self._lock:
            self.hits += len(found)
            self.reads += len(fresh)
            for i, record in fresh.items():
                # a record changed between the two queries is stored under the older hash
                # and read again next time
                self._data[i] = (hashes[i], record)
                self._data.move_to_end(i)
            while len(self._data) > self.size:
                self._data.popitem(last=False)
        found.update(fresh)
        return {i: found[i] for i in dict.fromkeys(ids) if i in found}

    def clear(self) -> None:
        """Forget every record."""
        with self._lock:
            self._data.clear()

"""A bounded cache that keeps what is asked for often: the least recently used entry goes first, but a newcomer
takes its place only if it has been asked for more often lately (TinyLFU's admission, Einziger, Friedman and Manes,
2017). A flood of keys asked for once, or a rotation of more keys than fit, passes without evicting the hot ones:
under plain LRU, 300 documents in turn through 256 places never hit at all.

How often a key was asked for is estimated by a count-min sketch: four rows of one-byte counters, a key counting in
one counter of each row and read as the least of its four (a collision only ever adds). The counters are halved
every `10 × size` requests, so the estimate follows what is asked for lately. Its memory is fixed: 64 bytes per
place in the cache (up to twice that: each row is a power of two).
"""

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MASK = (1 << 64) - 1
_SEEDS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93)  # odd: one hash per row
_HALVED = bytes(count >> 1 for count in range(256))
_COUNTERS_PER_PLACE = 16  # per row: few enough collisions that a key asked for once reads as 1, mostly
_SAMPLE_PER_PLACE = 10  # requests between two halvings, per place


class FrequencySketch:
    """How often each key was asked for lately, estimated in fixed memory."""

    def __init__(self, places: int) -> None:
        bits = max(4, (_COUNTERS_PER_PLACE * places - 1).bit_length())  # a power of two counters per row
        self.shift = 64 - bits
        self.rows = [bytearray(1 << bits) for _ in _SEEDS]
        self.sample = _SAMPLE_PER_PLACE * places
        self.added = 0

    def _slots(self, key: Hashable) -> list[int]:
        mixed = hash(key) & _MASK
        return [((mixed * seed) & _MASK) >> self.shift for seed in _SEEDS]

    def add(self, key: Hashable) -> None:
        for row, slot in zip(self.rows, self._slots(key), strict=True):
            if row[slot] < 255:
                row[slot] += 1
        self.added += 1
        if self.added >= self.sample:
            self.rows = [row.translate(_HALVED) for row in self.rows]
            self.added //= 2  # about what the halved counters still hold

    def estimate(self, key: Hashable) -> int:
        return min(row[slot] for row, slot in zip(self.rows, self._slots(key), strict=True))


class AdmittingCache(Generic[K, V]):
    """At most `size` entries; thread-safe (one lock around each call, none held while a value is being made).

    A request for a key counts once: when `get` finds it, or when `put` is given it after a miss, and then after
    the admission is decided, so that a newcomer must have been asked for more often than the victim before this
    request. Counted first, a newcomer in a rotation of more keys than fit carries one more than its peers, and
    once the counts are halved (rounding down) many push out the next one due, as LRU does: 300 documents through
    256 places missed 104 to 160 times in the round after each halving, 44 every round when counted after."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[K, V] = OrderedDict()
        self.sketch = FrequencySketch(size)
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, key: K, default: V) -> V:
        """The entry for `key`, now the most recently used (a request for it), else `default`."""
        with self.lock:
            if key not in self.entries:
                return default
            self.sketch.add(key)
            self.entries.move_to_end(key)
            return self.entries[key]

    def put(self, key: K, value: V) -> bool:
        """Keep `value` for `key`, unless the cache is full and the entry it would push out (the least recently
        used) has been asked for at least as often lately; whether it was kept."""
        with self.lock:
            kept = True
            if key not in self.entries and len(self.entries) >= self.size:
                victim = next(iter(self.entries))
                kept = self.sketch.estimate(key) > self.sketch.estimate(victim)
                if kept:
                    del self.entries[victim]
            if kept:
                self.entries[key] = value
                self.entries.move_to_end(key)
            self.sketch.add(key)
            return kept

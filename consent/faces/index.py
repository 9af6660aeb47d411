"""Nearest-neighbour search of enrolled faces: which registered likenesses a face matches, and how closely.

The database stays the source of truth: ``Face`` rows hold the (encrypted) embeddings and
``FaceIndexChange`` is the append-only log of enrolments and erasures. Each process keeps one
in-memory ``FaceIndex`` per (engine, model), built from the ``Face`` rows on first use and brought
up to date before every search by reading the log rows after the last one it applied — so an
enrolment or an erasure made by any process is seen by every other one on its next search.

Small indexes are searched exactly (one matrix product); above ``SIGILLO_FACE_INDEX_EXACT_MAX``
faces the index switches to an HNSW graph (hnswlib). Distances are Euclidean (L2), as the face
engines define them; thresholds belong to the engine and are passed in by the caller.

The index holds every enrolled face whatever its likeness's status: whether a match blocks,
allows or flags a use is the caller's decision. This module imports only NumPy and hnswlib,
never a model library.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import hnswlib
import numpy as np
from django.conf import settings
from django.db.models import Max, Q

from consent.crypto import decrypt_embedding
from consent.models import Face, FaceIndexChange

logger = logging.getLogger(__name__)

#: Faces read (and decrypted) per round trip when building from the database.
BUILD_CHUNK_SIZE = 2_000
#: Faces loaded per query when applying "add" changes.
ADD_CHUNK_SIZE = 500
#: Neighbours looked at per likeness wanted: a likeness has several faces, only its closest counts.
NEIGHBOURS_PER_HIT = 4
#: A sequence number skipped in the change log may belong to a transaction that has not committed
#: yet (sequence numbers are handed out at insert, rows become visible at commit, in another order).
#: Such gaps are looked at again on every sync for this long, then given up (rolled back).
GAP_TIMEOUT_SECONDS = 600.0
#: At most this many gaps are remembered (the newest); at build, the last this many sequence
#: numbers are checked for gaps.
MAX_GAPS = 512


class IndexKind(StrEnum):
    """How an index searches: exactly (a matrix product) or approximately (an HNSW graph)."""

    EXACT = "exact"
    HNSW = "hnsw"


@dataclass(frozen=True)
class FaceHit:
    """A registered likeness whose closest enrolled face lies within the distance asked for."""

    face_id: int
    likeness_id: uuid.UUID
    #: Euclidean (L2) distance between the query and the face's embedding (not squared).
    distance: float


class FaceIndex:
    """An in-memory nearest-neighbour index of the enrolled faces of one engine and model.

    Exact (NumPy) up to ``exact_max`` faces, HNSW above; every method is thread-safe. Parameters
    left as ``None`` are read from the settings when needed.
    """

    def __init__(
        self,
        engine: str,
        model: str,
        *,
        exact_max: int | None = None,
        hnsw_m: int | None = None,
        hnsw_ef_construction: int | None = None,
        hnsw_ef: int | None = None,
        threads: int = -1,
    ) -> None:
        self.engine = engine
        self.model = model
        self._exact_max = exact_max
        self._hnsw_m = hnsw_m
        self._hnsw_ef_construction = hnsw_ef_construction
        self._hnsw_ef = hnsw_ef
        self.threads = threads
        self._lock = threading.RLock()
        self._clear()

    # -- Settings ---------------------------------------------------------------------------

    @property
    def exact_max(self) -> int:
        if self._exact_max is not None:
            return self._exact_max
        return settings.SIGILLO_FACE_INDEX_EXACT_MAX

    @property
    def hnsw_m(self) -> int:
        if self._hnsw_m is not None:
            return self._hnsw_m
        return settings.SIGILLO_FACE_INDEX_HNSW_M

    @property
    def hnsw_ef_construction(self) -> int:
        if self._hnsw_ef_construction is not None:
            return self._hnsw_ef_construction
        return settings.SIGILLO_FACE_INDEX_HNSW_EF_CONSTRUCTION

    @property
    def hnsw_ef(self) -> int:
        if self._hnsw_ef is not None:
            return self._hnsw_ef
        return settings.SIGILLO_FACE_INDEX_HNSW_EF

    @hnsw_ef.setter
    def hnsw_ef(self, value: int | None) -> None:
        """Set the size of the HNSW search's candidate list (``None``: back to the setting)."""
        self._hnsw_ef = value

    # -- State ------------------------------------------------------------------------------

    def _clear(self) -> None:
        self.dimension: int | None = None
        # Per slot: the face id (-1 once removed) and its likeness's UUID as 16 raw bytes. In the
        # exact kind slots are dense (a removal moves the last face into the freed slot); in the
        # HNSW kind a slot is the face's label in the graph and is never reused.
        self._face_ids = np.empty(0, dtype=np.int64)
        self._likeness_ids = np.empty(0, dtype="V16")
        self._slots: dict[int, int] = {}
        self._used = 0  # slots handed out
        # Exact kind: the vectors and their squared norms, one row per slot.
        self._vectors: np.ndarray | None = None
        self._sq_norms: np.ndarray | None = None
        # HNSW kind.
        self._hnsw: Any = None
        self._hnsw_vacant = 0  # deleted elements the graph can reuse
        self._hnsw_query_ef = 0
        # Synchronisation with the database.
        self.last_seq: int | None = None
        self._gaps: dict[int, float] = {}
        self._checked_at = float("-inf")

    @property
    def kind(self) -> IndexKind:
        return IndexKind.HNSW if self._hnsw is not None else IndexKind.EXACT

    def __len__(self) -> int:
        return len(self._slots)

    def reset(self) -> None:
        """Forget every face; the next ``sync()`` rebuilds from the database."""
        with self._lock:
            self._clear()

    def stats(self) -> dict[str, Any]:
        """Return the size, kind, dimension and log position of the index."""
        with self._lock:
            return {
                "engine": self.engine,
                "model": self.model,
                "size": len(self._slots),
                "kind": self.kind.value,
                "dimension": self.dimension,
                "built": self.last_seq is not None,
                "last_seq": self.last_seq,
                "pending_gaps": len(self._gaps),
                "deleted_in_graph": self._hnsw_vacant if self._hnsw is not None else 0,
                "memory_bytes": self.memory_bytes(),
            }

    def memory_bytes(self) -> int:
        """Return an estimate of the memory the index holds: vectors, graph and id mappings."""
        with self._lock:
            # The slot arrays, and the dict of face id -> slot (two int objects per entry).
            total = self._face_ids.nbytes + self._likeness_ids.nbytes + sys.getsizeof(self._slots)
            total += 56 * len(self._slots)
            if self._hnsw is None:
                if self._vectors is not None:
                    total += self._vectors.nbytes + self._sq_norms.nbytes
                return total
            graph = self._hnsw
            m = graph.M
            # hnswlib: per element of capacity, the vector, 2M level-0 links, their count and the
            # label; per element, its level, a lock and the label lookup; upper levels (about one
            # element in M) hold M links each.
            total += graph.max_elements * (4 * graph.dim + 4 * (2 * m + 1) + 8)
            total += graph.element_count * (4 + 40 + 48)
            total += graph.element_count * (4 * (m + 1)) // max(1, m - 1)
            return int(total)

    # -- Adding and removing ----------------------------------------------------------------

    def add_vectors(
        self,
        face_ids: Sequence[int] | np.ndarray,
        likeness_ids: Sequence[uuid.UUID | str],
        vectors: np.ndarray | Sequence[np.ndarray],
    ) -> int:
        """Add faces to the index; return how many were new.

        A face already in the index is left as it is, so adding twice is harmless. Raise
        ``ValueError`` when the vectors do not have the index's dimension.
        """
        ids = np.asarray(face_ids, dtype=np.int64).reshape(-1)
        matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        if matrix.ndim == 1 and ids.size <= 1:
            matrix = matrix.reshape(ids.size, -1)
        if matrix.ndim != 2 or matrix.shape[0] != ids.size or len(likeness_ids) != ids.size:
            raise ValueError("add_vectors needs as many face ids, likeness ids and vectors (one row each)")
        if ids.size == 0:
            return 0
        if not np.isfinite(matrix).all():
            raise ValueError("face embeddings must be finite numbers")
        with self._lock:
            self._check_dimension(matrix.shape[1], what="face embeddings")
            keep = self._new_rows(ids)
            if not keep:
                return 0
            if len(keep) < ids.size:
                ids = ids[keep]
                matrix = matrix[keep]
            raw_likenesses = np.frombuffer(b"".join(_uuid(likeness_ids[i]).bytes for i in keep), dtype="V16")
            if self.dimension is None:
                self.dimension = int(matrix.shape[1])
            if self._hnsw is None and len(self._slots) + ids.size > self.exact_max:
                self._switch_to_hnsw(extra=ids.size)
            slots = self._take_slots(ids, raw_likenesses)
            if self._hnsw is None:
                self._exact_put(slots, matrix)
            else:
                self._hnsw_put(slots, matrix)
            return int(ids.size)

    def remove_faces(self, face_ids: Iterable[int]) -> int:
        """Remove faces from the index; return how many were there. Unknown ids are ignored."""
        removed = 0
        with self._lock:
            for face_id in face_ids:
                slot = self._slots.pop(int(face_id), None)
                if slot is None:
                    continue
                removed += 1
                if self._hnsw is None:
                    self._exact_remove(slot)
                else:
                    self._hnsw.mark_deleted(slot)
                    self._hnsw_vacant += 1
                    self._face_ids[slot] = -1
        return removed

    def _check_dimension(self, dimension: int, *, what: str) -> None:
        if self.dimension is not None and dimension != self.dimension:
            raise ValueError(
                "%s have %d dimensions but the %s/%s face index holds %d-dimensional embeddings"
                % (what, dimension, self.engine, self.model, self.dimension)
            )

    def _new_rows(self, ids: np.ndarray) -> list[int]:
        """Return the positions of the ids that are neither in the index nor repeated before."""
        seen: set[int] = set()
        keep = []
        for position, face_id in enumerate(ids.tolist()):
            if face_id in self._slots or face_id in seen:
                continue
            seen.add(face_id)
            keep.append(position)
        return keep

    def _take_slots(self, ids: np.ndarray, raw_likenesses: np.ndarray) -> np.ndarray:
        start = self._used
        end = start + ids.size
        if end > self._face_ids.size:
            capacity = max(end, 2 * self._face_ids.size, 1024)
            self._face_ids = _grown(self._face_ids, capacity, start)
            self._likeness_ids = _grown(self._likeness_ids, capacity, start)
        self._face_ids[start:end] = ids
        self._likeness_ids[start:end] = raw_likenesses
        self._slots.update(zip(ids.tolist(), range(start, end), strict=True))
        self._used = end
        return np.arange(start, end, dtype=np.int64)

    def _exact_put(self, slots: np.ndarray, matrix: np.ndarray) -> None:
        end = int(slots[-1]) + 1
        if self._vectors is None or end > self._vectors.shape[0]:
            capacity = max(end, 2 * (0 if self._vectors is None else self._vectors.shape[0]), 1024)
            old_rows = int(slots[0])
            vectors = np.empty((capacity, matrix.shape[1]), dtype=np.float32)
            sq_norms = np.empty(capacity, dtype=np.float32)
            if self._vectors is not None:
                vectors[:old_rows] = self._vectors[:old_rows]
                sq_norms[:old_rows] = self._sq_norms[:old_rows]
            self._vectors, self._sq_norms = vectors, sq_norms
        self._vectors[slots[0] : end] = matrix
        self._sq_norms[slots[0] : end] = np.einsum("ij,ij->i", matrix, matrix)

    def _exact_remove(self, slot: int) -> None:
        last = self._used - 1
        if slot != last:
            moved = int(self._face_ids[last])
            self._face_ids[slot] = moved
            self._likeness_ids[slot] = self._likeness_ids[last]
            self._vectors[slot] = self._vectors[last]
            self._sq_norms[slot] = self._sq_norms[last]
            self._slots[moved] = slot
        self._face_ids[last] = -1
        self._used = last

    def _switch_to_hnsw(self, *, extra: int) -> None:
        """Move the faces of the exact matrix into a new HNSW graph with room for ``extra`` more."""
        assert self.dimension is not None
        count = self._used
        graph = hnswlib.Index(space="l2", dim=self.dimension)
        graph.init_index(
            max_elements=_with_headroom(count + extra),
            M=self.hnsw_m,
            ef_construction=self.hnsw_ef_construction,
            allow_replace_deleted=True,
        )
        if count:
            graph.add_items(self._vectors[:count], np.arange(count), num_threads=self.threads)
        self._hnsw = graph
        self._hnsw_vacant = 0
        self._hnsw_query_ef = 0
        self._vectors = None
        self._sq_norms = None
        logger.info(
            "Face index %s/%s switched to HNSW at %d faces (M=%d, ef_construction=%d)",
            self.engine,
            self.model,
            count,
            self.hnsw_m,
            self.hnsw_ef_construction,
        )

    def _hnsw_put(self, slots: np.ndarray, matrix: np.ndarray) -> None:
        graph = self._hnsw
        reused = min(self._hnsw_vacant, slots.size)
        needed = graph.element_count + slots.size - reused
        if needed > graph.max_elements:
            graph.resize_index(_with_headroom(needed))
        graph.add_items(matrix, slots, num_threads=self.threads, replace_deleted=True)
        self._hnsw_vacant -= reused

    # -- Searching --------------------------------------------------------------------------

    def nearest(self, embedding: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Return the ``count`` faces nearest to ``embedding``, nearest first.

        The result is three arrays: face ids, their likeness UUIDs as 16 raw bytes each, and the
        true (not squared) L2 distances. Fewer rows come back when the index holds fewer faces.
        """
        query = self._query_vector(embedding)
        with self._lock:
            size = len(self._slots)
            count = min(int(count), size)
            if count <= 0:
                return np.empty(0, np.int64), np.empty(0, "V16"), np.empty(0, np.float32)
            if self._hnsw is None:
                slots, distances = self._exact_nearest(query, count)
            else:
                slots, distances = self._hnsw_nearest(query, count)
            return self._face_ids[slots], self._likeness_ids[slots], distances

    def search(self, *, embedding: np.ndarray, k: int = 5, max_distance: float) -> list[FaceHit]:
        """Return up to ``k`` likenesses whose closest face is within ``max_distance``, nearest first.

        Does not look at the database; ``face_search`` syncs first.
        """
        if k < 1:
            raise ValueError("k must be at least 1")
        if not max_distance >= 0:
            raise ValueError("max_distance must be a non-negative number")
        query = self._query_vector(embedding)
        count = k * NEIGHBOURS_PER_HIT
        with self._lock:
            while True:
                face_ids, likenesses, distances = self.nearest(query, count)
                hits = _closest_per_likeness(face_ids, likenesses, distances, k=k, max_distance=max_distance)
                exhausted = face_ids.size < count or (distances.size and distances[-1] > max_distance)
                if len(hits) >= k or exhausted:
                    return hits
                # Every neighbour looked at was close enough, but they belong to fewer than k
                # likenesses (people with many faces): look further.
                count *= NEIGHBOURS_PER_HIT

    def _query_vector(self, embedding: np.ndarray) -> np.ndarray:
        query = np.asarray(embedding, dtype=np.float32)
        if query.ndim != 1:
            raise ValueError("a face embedding must be a one-dimensional vector, not of shape %r" % (query.shape,))
        self._check_dimension(query.shape[0], what="the query embedding")
        if not np.isfinite(query).all():
            raise ValueError("the query embedding must be finite numbers")
        return np.ascontiguousarray(query)

    def _exact_nearest(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        size = self._used
        vectors = self._vectors[:size]
        # |x - q|^2 = |x|^2 - 2 x.q + |q|^2; |q|^2 does not change the order and is left out here.
        scores = self._sq_norms[:size] - 2.0 * (vectors @ query)
        if count < size:
            slots = np.argpartition(scores, count - 1)[:count]
        else:
            slots = np.arange(size)
        # Exact distances of the few chosen, free of the cancellation in the expansion above.
        distances = np.linalg.norm(vectors[slots] - query, axis=1)
        order = np.argsort(distances, kind="stable")
        return slots[order], distances[order].astype(np.float32)

    def _hnsw_nearest(self, query: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
        ef = max(self.hnsw_ef, count)
        if ef != self._hnsw_query_ef:
            self._hnsw.set_ef(ef)
            self._hnsw_query_ef = ef
        while True:
            try:
                labels, sq_distances = self._hnsw.knn_query(query, k=count, num_threads=1)
                break
            except RuntimeError:
                # hnswlib found fewer than ``count`` live elements (deleted ones cut the graph).
                if count == 1:
                    return np.empty(0, np.int64), np.empty(0, np.float32)
                count = max(1, count // 2)
        distances = np.sqrt(np.maximum(sq_distances[0], 0.0)).astype(np.float32)
        return labels[0].astype(np.int64), distances

    # -- Synchronisation with the database --------------------------------------------------

    def sync(self, *, force: bool = False) -> None:
        """Bring the index up to date with the database.

        The first call builds the index from every ``Face`` of this engine and model; later calls
        apply the ``FaceIndexChange`` rows written since. With ``SIGILLO_FACE_INDEX_SYNC_INTERVAL``
        above zero, a call within that many seconds of the last check does nothing (unless
        ``force``).
        """
        interval = settings.SIGILLO_FACE_INDEX_SYNC_INTERVAL
        if not force and interval > 0 and self.last_seq is not None:
            if time.monotonic() - self._checked_at < interval:
                return
        with self._lock:
            if self.last_seq is None:
                self._build_from_database()
            else:
                self._apply_changes()
            self._checked_at = time.monotonic()

    def _build_from_database(self) -> None:
        started = time.monotonic()
        self._clear()
        # Read the log position before the faces: a change committed in between is then both in
        # the faces read and in the log after ``last_seq``, and applying it again is harmless.
        last_seq = FaceIndexChange.objects.aggregate(last=Max("seq"))["last"] or 0
        recent = set(
            FaceIndexChange.objects.filter(seq__gt=last_seq - MAX_GAPS, seq__lte=last_seq).values_list("seq", flat=True)
        )
        now = time.monotonic()
        self._gaps = {seq: now for seq in range(max(1, last_seq - MAX_GAPS + 1), last_seq + 1) if seq not in recent}
        faces = (
            Face.objects.filter(engine=self.engine, model=self.model)
            .order_by()
            .values_list("id", "likeness_id", "embedding")
        )
        batch: list[tuple[int, uuid.UUID, bytes]] = []
        for row in faces.iterator(chunk_size=BUILD_CHUNK_SIZE):
            batch.append(row)
            if len(batch) >= BUILD_CHUNK_SIZE:
                self._add_rows(batch)
                batch = []
        self._add_rows(batch)
        self.last_seq = last_seq
        logger.info(
            "Face index %s/%s built: %d faces (%s) up to change %d in %.2f s",
            self.engine,
            self.model,
            len(self._slots),
            self.kind,
            last_seq,
            time.monotonic() - started,
        )

    def _add_rows(self, rows: Sequence[tuple[int, uuid.UUID, bytes]]) -> None:
        if not rows:
            return
        vectors = np.stack([decrypt_embedding(token) for _, _, token in rows])
        self.add_vectors([face_id for face_id, _, _ in rows], [likeness for _, likeness, _ in rows], vectors)

    def _apply_changes(self) -> None:
        assert self.last_seq is not None
        now = time.monotonic()
        self._gaps = {seq: seen for seq, seen in self._gaps.items() if now - seen < GAP_TIMEOUT_SECONDS}
        # One query on the primary key; the rows of other engines are few and skipped below.
        condition = Q(seq__gt=self.last_seq)
        if self._gaps:
            condition |= Q(seq__in=sorted(self._gaps))
        changes = list(
            FaceIndexChange.objects.filter(condition)
            .order_by("seq")
            .values_list("seq", "face_id", "engine", "model", "op")
        )
        if not changes:
            return
        newest = self.last_seq
        last_op: dict[int, str] = {}
        for seq, face_id, engine, model, op in changes:
            self._gaps.pop(seq, None)
            if seq > newest:
                self._gaps.update((missing, now) for missing in range(newest + 1, seq))
                newest = seq
            if engine == self.engine and model == self.model:
                last_op[face_id] = op
        if len(self._gaps) > MAX_GAPS:
            self._gaps = dict(sorted(self._gaps.items())[-MAX_GAPS:])
        removed = self.remove_faces(face_id for face_id, op in last_op.items() if op == FaceIndexChange.Op.REMOVE)
        added_ids = [face_id for face_id, op in last_op.items() if op == FaceIndexChange.Op.ADD]
        added = 0
        for start in range(0, len(added_ids), ADD_CHUNK_SIZE):
            # A face erased since its enrolment is no longer there and is skipped.
            rows = list(
                Face.objects.filter(
                    id__in=added_ids[start : start + ADD_CHUNK_SIZE], engine=self.engine, model=self.model
                ).values_list("id", "likeness_id", "embedding")
            )
            before = len(self._slots)
            self._add_rows(rows)
            added += len(self._slots) - before
        self.last_seq = newest
        if added or removed:
            logger.info(
                "Face index %s/%s: %d faces added, %d removed, now at change %d",
                self.engine,
                self.model,
                added,
                removed,
                newest,
            )


def _with_headroom(count: int) -> int:
    """Return a graph capacity for ``count`` elements with room to grow by a quarter."""
    return max(1024, count + count // 4)


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _grown(array: np.ndarray, capacity: int, used: int) -> np.ndarray:
    grown = np.empty(capacity, dtype=array.dtype)
    grown[:used] = array[:used]
    return grown


def _closest_per_likeness(
    face_ids: np.ndarray, likenesses: np.ndarray, distances: np.ndarray, *, k: int, max_distance: float
) -> list[FaceHit]:
    hits: list[FaceHit] = []
    seen: set[bytes] = set()
    for face_id, raw, distance in zip(face_ids.tolist(), likenesses, distances.tolist(), strict=True):
        if distance > max_distance:
            break
        key = raw.tobytes()
        if key in seen:
            continue
        seen.add(key)
        hits.append(FaceHit(face_id=face_id, likeness_id=uuid.UUID(bytes=key), distance=float(distance)))
        if len(hits) == k:
            break
    return hits


# -- The process's indexes --------------------------------------------------------------------

_registry: dict[tuple[str, str], FaceIndex] = {}
_registry_lock = threading.Lock()


def get_index(engine: str, model: str) -> FaceIndex:
    """Return this process's index of ``engine``/``model`` faces (created empty, built on first sync)."""
    key = (engine, model)
    with _registry_lock:
        index = _registry.get(key)
        if index is None:
            index = _registry[key] = FaceIndex(engine, model)
        return index


def reset_indexes() -> None:
    """Forget every index of this process (tests; the next search rebuilds from the database)."""
    with _registry_lock:
        _registry.clear()


def index_stats() -> dict[str, dict[str, Any]]:
    """Return, per "engine/model", the size, kind (exact or hnsw) and log position of each index."""
    with _registry_lock:
        indexes = list(_registry.values())
    return {"%s/%s" % (index.engine, index.model): index.stats() for index in indexes}


def face_search(*, embedding: np.ndarray, engine: str, model: str, k: int = 5, max_distance: float) -> list[FaceHit]:
    """Return the registered likenesses whose faces lie within ``max_distance`` of ``embedding``.

    At most ``k`` hits, one per likeness (its closest face), nearest first. The index is brought
    up to date with the database first, so enrolments and erasures made by any process count.
    Raise ``ValueError`` when the embedding's dimension is not the index's.
    """
    index = get_index(engine, model)
    index.sync()
    return index.search(embedding=embedding, k=k, max_distance=max_distance)


def registry_size(engine: str, model: str) -> int:
    """Return how many faces of ``engine``/``model`` a search looks through now (the index, synced)."""
    index = get_index(engine, model)
    index.sync()
    return len(index)


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay held forever in the child.
    global _registry_lock
    _registry_lock = threading.Lock()
    for index in _registry.values():
        index._lock = threading.RLock()


os.register_at_fork(after_in_child=_after_fork_in_child)

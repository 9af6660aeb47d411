"""Face search: exact and HNSW nearest neighbours, kept in step with the database across processes."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from django.db import connection

from consent.crypto import encrypt_embedding
from consent.faces.index import FaceHit, FaceIndex, face_search, get_index, index_stats, reset_indexes
from consent.models import Face, FaceIndexChange, Likeness, LikenessStatus

ROOT = Path(__file__).resolve().parents[2]
ENGINE = "test-engine"
MODEL = "test-model-v1"
DIM = 16


@pytest.fixture(autouse=True)
def _fresh_indexes():
    reset_indexes()
    yield
    reset_indexes()


def unit(rng: np.random.Generator, dim: int = DIM) -> np.ndarray:
    vector = rng.normal(size=dim).astype(np.float32)
    return vector / np.linalg.norm(vector)


def make_likeness(name: str = "Someone") -> Likeness:
    return Likeness.objects.create(display_name=name, status=LikenessStatus.ACTIVE)


def make_face(likeness: Likeness, vector: np.ndarray, *, engine: str = ENGINE, model: str = MODEL) -> Face:
    return Face.objects.create(
        likeness=likeness,
        engine=engine,
        model=model,
        dimension=vector.shape[0],
        embedding=encrypt_embedding(vector),
        box=[0, 0, 10, 10],
        detection_score=0.99,
    )


def log_change(face_id: int, likeness_id: uuid.UUID, op: str, **fields) -> FaceIndexChange:
    return FaceIndexChange.objects.create(
        face_id=face_id, likeness_id=likeness_id, engine=ENGINE, model=MODEL, op=op, **fields
    )


def enroll(likeness: Likeness, vector: np.ndarray) -> Face:
    """Enroll a face as the registry's service does: the face and its "add" change together."""
    face = make_face(likeness, vector)
    log_change(face.id, likeness.id, FaceIndexChange.Op.ADD)
    return face


def erase(face: Face) -> None:
    """Erase a face as the registry's service does: the row goes, a "remove" change is logged."""
    log_change(face.id, face.likeness_id, FaceIndexChange.Op.REMOVE)
    face.delete()


def run_search(vector: np.ndarray, **kwargs) -> list[FaceHit]:
    return face_search(embedding=vector, engine=ENGINE, model=MODEL, **{"max_distance": 10.0, **kwargs})


# -- Exact search ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_exact_search_returns_the_nearest_face_its_likeness_and_the_true_distance():
    rng = np.random.default_rng(1)
    vectors = [unit(rng) for _ in range(20)]
    faces = [make_face(make_likeness("Person %d" % i), vector) for i, vector in enumerate(vectors)]
    target, target_vector = faces[7], vectors[7]
    query = target_vector + 0.05 * unit(rng)  # a little way from face 7

    hits = run_search(query, k=3)

    assert hits[0].face_id == target.id
    assert hits[0].likeness_id == target.likeness_id
    assert hits[0].distance == pytest.approx(float(np.linalg.norm(target_vector - query)), abs=1e-5)
    expected = sorted(float(np.linalg.norm(vector - query)) for vector in vectors)[:3]
    assert [hit.distance for hit in hits] == pytest.approx(expected, abs=1e-5)
    assert index_stats()["%s/%s" % (ENGINE, MODEL)]["kind"] == "exact"


@pytest.mark.django_db
def test_one_hit_per_likeness_its_closest_face():
    rng = np.random.default_rng(2)
    query = unit(rng)
    many = make_likeness("Many photos")
    close = [make_face(many, query + scale * unit(rng)) for scale in (0.02, 0.04, 0.06)]
    other = make_likeness("Other")
    other_face = make_face(other, query + 0.3 * unit(rng))

    hits = run_search(query, k=5)

    assert [hit.likeness_id for hit in hits] == [many.id, other.id]
    assert hits[0].face_id == close[0].id
    assert hits[1].face_id == other_face.id


@pytest.mark.django_db
def test_k_likenesses_are_found_past_the_many_faces_of_one_likeness():
    rng = np.random.default_rng(3)
    query = unit(rng)
    crowded = make_likeness("Forty photos")
    for _ in range(40):
        make_face(crowded, query + 0.01 * unit(rng))
    second = make_likeness("Second")
    make_face(second, query + 0.2 * unit(rng))

    hits = run_search(query, k=2)

    assert [hit.likeness_id for hit in hits] == [crowded.id, second.id]


@pytest.mark.django_db
def test_max_distance_filters_far_faces():
    rng = np.random.default_rng(4)
    query = unit(rng)
    near = make_face(make_likeness("Near"), query + 0.1 * unit(rng))
    make_face(make_likeness("Far"), query + 0.9 * unit(rng))

    hits = run_search(query, max_distance=0.5)

    assert [hit.face_id for hit in hits] == [near.id]
    assert run_search(query, max_distance=0.01) == []


@pytest.mark.django_db
def test_an_empty_index_returns_nothing():
    assert run_search(np.ones(DIM, dtype=np.float32)) == []
    assert index_stats()["%s/%s" % (ENGINE, MODEL)]["size"] == 0


@pytest.mark.django_db
def test_a_dimension_mismatch_raises_a_clear_error():
    rng = np.random.default_rng(5)
    make_face(make_likeness(), unit(rng))

    with pytest.raises(ValueError, match="query embedding have 8 dimensions but the .* holds 16-dimensional"):
        run_search(np.ones(8, dtype=np.float32))
    with pytest.raises(ValueError, match="face embeddings have 4 dimensions"):
        get_index(ENGINE, MODEL).add_vectors([999], [uuid.uuid4()], np.ones((1, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="one-dimensional"):
        run_search(np.ones((2, DIM), dtype=np.float32))


@pytest.mark.django_db
def test_other_engines_and_models_are_separate_indexes():
    rng = np.random.default_rng(6)
    query = unit(rng)
    make_face(make_likeness("Other model"), query, model="other-model")
    mine = make_face(make_likeness("Mine"), query + 0.3 * unit(rng))

    assert [hit.face_id for hit in run_search(query)] == [mine.id]


# -- Keeping up with the database -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_enrollment_after_the_index_was_built_is_found_on_the_next_search():
    rng = np.random.default_rng(7)
    enroll(make_likeness("Early"), unit(rng))
    query = unit(rng)
    assert all(hit.distance > 0.2 for hit in run_search(query))

    late = enroll(make_likeness("Late"), query + 0.01 * unit(rng))
    hits = run_search(query)

    assert hits[0].face_id == late.id
    assert hits[0].likeness_id == late.likeness_id
    assert index_stats()["%s/%s" % (ENGINE, MODEL)]["last_seq"] == FaceIndexChange.objects.latest("seq").seq


@pytest.mark.django_db
def test_an_erasure_is_not_returned_on_the_next_search():
    rng = np.random.default_rng(8)
    query = unit(rng)
    erased = enroll(make_likeness("Erased"), query + 0.01 * unit(rng))
    kept = enroll(make_likeness("Kept"), query + 0.2 * unit(rng))
    assert run_search(query)[0].face_id == erased.id

    erase(erased)
    hits = run_search(query)

    assert [hit.face_id for hit in hits] == [kept.id]
    assert index_stats()["%s/%s" % (ENGINE, MODEL)]["size"] == 1


@pytest.mark.django_db
def test_adding_a_face_already_indexed_is_harmless():
    rng = np.random.default_rng(9)
    query = unit(rng)
    face = enroll(make_likeness(), query)
    run_search(query)  # built: the face is in the index, its "add" change after the position read or not

    log_change(face.id, face.likeness_id, FaceIndexChange.Op.ADD)  # the same enrolment seen again
    hits = run_search(query, k=5)

    assert [hit.face_id for hit in hits] == [face.id]
    assert len(get_index(ENGINE, MODEL)) == 1


@pytest.mark.django_db
def test_an_enrollment_whose_face_was_erased_since_is_skipped():
    rng = np.random.default_rng(10)
    enroll(make_likeness(), unit(rng))
    run_search(unit(rng))
    likeness = make_likeness("Gone")
    face = enroll(likeness, unit(rng))
    face_id = face.id
    face.delete()  # erased before this process saw the enrolment; its "remove" not yet visible

    run_search(unit(rng))

    assert face_id not in get_index(ENGINE, MODEL)._slots


@pytest.mark.django_db
def test_a_change_that_becomes_visible_late_is_still_applied():
    """A change row is numbered at insert but seen at commit: a later number can be seen first."""
    rng = np.random.default_rng(11)
    query = unit(rng)
    enroll(make_likeness("Before"), unit(rng))
    run_search(query)
    slow_face = make_face(make_likeness("Slow transaction"), query + 0.01 * unit(rng))
    slow = log_change(slow_face.id, slow_face.likeness_id, FaceIndexChange.Op.ADD)
    enroll(make_likeness("Fast transaction"), unit(rng))
    slow_seq = slow.seq
    slow.delete()  # not committed yet, as far as the index can tell

    run_search(query)
    assert slow_face.id not in get_index(ENGINE, MODEL)._slots

    log_change(slow_face.id, slow_face.likeness_id, FaceIndexChange.Op.ADD, seq=slow_seq)  # now it commits
    hits = run_search(query)

    assert hits[0].face_id == slow_face.id


@pytest.mark.django_db
def test_a_change_not_yet_visible_when_the_index_is_built_is_applied_later():
    rng = np.random.default_rng(12)
    query = unit(rng)
    slow_likeness = make_likeness("Slow transaction")
    placeholder = log_change(0, slow_likeness.id, FaceIndexChange.Op.ADD)
    enroll(make_likeness("Fast transaction"), unit(rng))
    slow_seq = placeholder.seq
    placeholder.delete()

    run_search(query)  # builds, up to the fast change's number; the slow one's is a gap
    slow_face = make_face(slow_likeness, query + 0.01 * unit(rng))
    log_change(slow_face.id, slow_likeness.id, FaceIndexChange.Op.ADD, seq=slow_seq)
    hits = run_search(query)

    assert hits[0].face_id == slow_face.id


@pytest.mark.django_db
def test_a_sync_interval_skips_the_check_until_it_has_passed(settings, django_assert_num_queries):
    settings.SIGILLO_FACE_INDEX_SYNC_INTERVAL = 3600.0
    rng = np.random.default_rng(13)
    query = unit(rng)
    enroll(make_likeness(), unit(rng))
    run_search(query)

    with django_assert_num_queries(0):
        run_search(query)
    settings.SIGILLO_FACE_INDEX_SYNC_INTERVAL = 0.0
    with django_assert_num_queries(1):
        run_search(query)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return "sqlite:///" + str(db["NAME"])
    auth = quote(db["USER"], safe="") + ((":" + quote(db["PASSWORD"], safe="")) if db.get("PASSWORD") else "")
    return "postgres://%s@%s:%s/%s" % (auth, db["HOST"] or "127.0.0.1", db["PORT"] or 5432, db["NAME"])


OTHER_PROCESS = """
import json, sys
import django
django.setup()
import numpy as np
from django.db import transaction
from consent.crypto import encrypt_embedding
from consent.models import Face, FaceIndexChange

job = json.loads(sys.argv[1])
with transaction.atomic():
    face = Face.objects.get(id=job["erase"])
    FaceIndexChange.objects.create(
        face_id=face.id, likeness_id=face.likeness_id, engine=face.engine, model=face.model, op="remove"
    )
    face.delete()
with transaction.atomic():
    vector = np.asarray(job["add"]["vector"], dtype=np.float32)
    face = Face.objects.create(
        likeness_id=job["add"]["likeness"], engine=job["engine"], model=job["model"], dimension=vector.size,
        embedding=encrypt_embedding(vector), box=[0, 0, 1, 1], detection_score=0.9,
    )
    FaceIndexChange.objects.create(
        face_id=face.id, likeness_id=face.likeness_id, engine=face.engine, model=face.model, op="add"
    )
print(face.id)
"""


@pytest.mark.django_db(transaction=True)
def test_changes_made_by_another_process_reach_this_one():
    rng = np.random.default_rng(14)
    query = unit(rng)
    erased = enroll(make_likeness("Erased elsewhere"), query + 0.01 * unit(rng))
    enroll(make_likeness("Far"), -query)
    newcomer = make_likeness("Enrolled elsewhere")
    assert run_search(query)[0].face_id == erased.id

    job = {
        "engine": ENGINE,
        "model": MODEL,
        "erase": erased.id,
        "add": {"likeness": str(newcomer.id), "vector": (query + 0.02 * unit(rng)).tolist()},
    }
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url()}
    result = subprocess.run(
        [sys.executable, "-c", OTHER_PROCESS, json.dumps(job)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    added_id = int(result.stdout.strip().splitlines()[-1])

    hits = run_search(query)

    assert erased.id not in [hit.face_id for hit in hits]
    assert hits[0].face_id == added_id
    assert hits[0].likeness_id == newcomer.id


# -- HNSW ----------------------------------------------------------------------------------------


def identities(rng: np.random.Generator, count: int, per: int, dim: int) -> np.ndarray:
    """Return ``count * per`` vectors: ``per`` noisy samples around each of ``count`` centres."""
    centres = rng.normal(size=(count, dim)).astype(np.float32) / np.sqrt(dim) * 0.65
    noise = rng.normal(size=(count, per, dim)).astype(np.float32) / np.sqrt(dim) * 0.14
    return (centres[:, None, :] + noise).reshape(count * per, dim)


@pytest.mark.django_db
def test_hnsw_recall_against_exact_search_and_erasure(settings):
    settings.SIGILLO_FACE_INDEX_EXACT_MAX = 50
    rng = np.random.default_rng(15)
    dim = 128
    vectors = identities(rng, 125, 4, dim)
    likenesses = Likeness.objects.bulk_create(
        Likeness(display_name="Person %d" % i, status=LikenessStatus.ACTIVE) for i in range(125)
    )
    faces = Face.objects.bulk_create(
        Face(
            likeness=likenesses[row // 4],
            engine=ENGINE,
            model=MODEL,
            dimension=dim,
            embedding=encrypt_embedding(vector),
            box=[0, 0, 1, 1],
            detection_score=0.9,
        )
        for row, vector in enumerate(vectors)
    )
    face_ids = np.array([face.id for face in faces])
    queries = vectors[rng.choice(len(vectors), 200, replace=False)]
    queries = queries + rng.normal(size=queries.shape).astype(np.float32) / np.sqrt(dim) * 0.1

    index = get_index(ENGINE, MODEL)
    index.sync()
    assert index.kind == "hnsw"
    assert len(index) == 500
    exact = face_ids[np.argmin(((queries[:, None, :] - vectors[None, :, :]) ** 2).sum(-1), axis=1)]
    found = np.array([index.nearest(query, 1)[0][0] for query in queries])
    assert (found == exact).mean() >= 0.95

    # Erase the faces that were the nearest to the first ten queries: they are gone from the graph.
    erased = set(exact[:10].tolist())
    for face in Face.objects.filter(id__in=erased):
        erase(face)
    for query in queries[:10]:
        hits = face_search(embedding=query, engine=ENGINE, model=MODEL, k=5, max_distance=10.0)
        assert hits and not erased & {hit.face_id for hit in hits}
    assert len(index) == 490

    # An enrolment after the switch goes into the graph (reusing a deleted element's place).
    newcomer = enroll(likenesses[0], queries[0])
    assert face_search(embedding=queries[0], engine=ENGINE, model=MODEL, max_distance=0.001)[0].face_id == newcomer.id
    assert index_stats()["%s/%s" % (ENGINE, MODEL)]["kind"] == "hnsw"


def test_the_index_grows_past_the_cut_over_and_past_its_graph_capacity():
    rng = np.random.default_rng(16)
    index = FaceIndex(ENGINE, MODEL, exact_max=100, hnsw_m=8, hnsw_ef_construction=50, hnsw_ef=32)
    vectors = identities(rng, 1000, 3, 32)
    likeness_ids = [uuid.uuid4() for _ in range(1000)]
    for start in range(0, 3000, 60):  # small batches: switch at 100, resize the graph repeatedly
        rows = range(start, start + 60)
        index.add_vectors(list(rows), [likeness_ids[row // 3] for row in rows], vectors[start : start + 60])

    assert index.kind == "hnsw"
    assert len(index) == 3000
    for row in (0, 1234, 2999):
        face_ids, likenesses, distances = index.nearest(vectors[row], 1)
        assert face_ids[0] == row
        assert uuid.UUID(bytes=likenesses[0].tobytes()) == likeness_ids[row // 3]
        assert distances[0] == pytest.approx(0.0, abs=1e-4)
    assert index.remove_faces([0, 0, 12345]) == 1
    assert index.nearest(vectors[0], 1)[0][0] != 0
    assert index.add_vectors([1, 2], [likeness_ids[0]] * 2, vectors[1:3]) == 0  # already there


def test_exact_removal_keeps_the_other_faces_findable():
    rng = np.random.default_rng(17)
    index = FaceIndex(ENGINE, MODEL, exact_max=1000)
    vectors = np.stack([unit(rng) for _ in range(50)])
    likeness_ids = [uuid.uuid4() for _ in range(50)]
    index.add_vectors(list(range(50)), likeness_ids, vectors)

    index.remove_faces([0, 10, 49])

    assert len(index) == 47
    for row in range(50):
        hits = index.search(embedding=vectors[row], k=1, max_distance=1e-3)
        if row in (0, 10, 49):
            assert all(hit.face_id != row for hit in hits)
        else:
            assert hits == [FaceHit(face_id=row, likeness_id=likeness_ids[row], distance=pytest.approx(0.0, abs=1e-3))]

"""Face import of a folder of members' photos (a ZIP, one folder per member), as an administrator
uploads it: on SQLite in the server's own thread, and on PostgreSQL through the job queue with 1,
then 2 worker processes (``meeting-room worker``) on this machine.

    .venv/bin/python benchmarks/face_import.py [--members 60] [--workers 1 2] [--database-url URL]
        [--skip-postgres] [--smoke]

The photos are real: ../shared/testdata/faces/identities (read there, never copied), one folder per
identity, repeated under new usernames up to ``--members`` (each photo is decoded and checked again:
the work is the same as for a new person); at most 10 photos a member, as the import allows. Without
that folder, the two public-domain portraits the tests use. Every figure counts the whole job: the
archive read, each photo decoded, its face found (HOG), measured and encoded, the faces written
member by member through the store. The first member of each worker includes loading dlib's models.

PostgreSQL: --database-url (one round, one worker count), or a throwaway local server (Debian's postgresql).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from meeting_room import events as ev  # noqa: E402
from meeting_room.live.face_import_jobs import FaceImportJobs  # noqa: E402
from meeting_room.roles import Role  # noqa: E402
from meeting_room.server import open_store  # noqa: E402
from meeting_room.services import face_imports, faces  # noqa: E402
from meeting_room.settings import Settings, load_settings  # noqa: E402
from meeting_room.store import Store  # noqa: E402
from tests.conftest import World, make_world  # noqa: E402
from tests.pgcluster import ClusterUnavailable, ThrowawayCluster  # noqa: E402
from tests.queue_workers import Worker, live_workers, wait_for  # noqa: E402

IDENTITIES = ROOT.parent / "shared" / "testdata" / "faces" / "identities"
PHOTO = (".jpg", ".jpeg", ".png")


def _people() -> tuple[list[list[tuple[str, bytes]]], str]:
    if IDENTITIES.is_dir() and any(IDENTITIES.iterdir()):
        people = []
        for folder in sorted(p for p in IDENTITIES.iterdir() if p.is_dir()):
            photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO)[: faces.MAX_PHOTOS]
            if photos:
                people.append([(p.name, p.read_bytes()) for p in photos])
        return people, f"{sum(len(p) for p in people)} photos of {len(people)} identities in {IDENTITIES}"
    from tests.face_photos import astronaut, hopper, jpeg_bytes

    return [[("1.jpg", jpeg_bytes(astronaut()))], [("1.jpg", jpeg_bytes(hopper()))]], "2 package portraits (../shared/testdata absent)"


def _members(store: Store, world: World, n: int) -> list[str]:
    """``n`` consenting members (usernames), made through the store."""
    admin = world.actor("admin")
    names = []
    for i in range(n):
        member_id, username = f"face-import-{i:04d}", f"daibieu{i:04d}"
        store.append(
            ev.MemberCreated(
                member_id=member_id, body_id=world.body_id, full_name=f"Đại biểu {i:04d}", roles=[Role.MEMBER], username=username
            )
        )
        faces.set_consent(store, admin, member_id, True, "Phiếu đồng ý")
        names.append(username)
    return names


def _archive(names: list[str], people: list[list[tuple[str, bytes]]]) -> tuple[bytes, int]:
    out, photos = io.BytesIO(), 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:  # JPEGs do not compress
        for i, name in enumerate(names):
            for photo, data in people[i % len(people)]:
                archive.writestr(f"anh-dai-bieu/{name}/{photo}", data)
                photos += 1
    return out.getvalue(), photos


def _report(label: str, view: face_imports.FaceImportView, wall: float) -> None:
    enrolled = sum(r.enrolled for r in view.results)
    refused = sum(len(r.refused) for r in view.results)
    print(f"{label}: {view.members_total} members, {view.photos_total} photos in {wall:.1f} s ({view.state}); "
          f"{view.photos_total / wall:.2f} photos/s, {60 * view.members_total / wall:.1f} members/min; "
          f"enrolled {enrolled}, refused {refused}")  # fmt: skip


def _setup(folder: Path, options: dict[str, object], n: int) -> tuple[Path, Settings, Store, World, list[str]]:
    folder.mkdir(parents=True)
    config = folder / "meeting-room.toml"
    config.write_text("".join(f"{k} = {json.dumps(v)}\n" for k, v in {"data_dir": str(folder / "var"), **options}.items()))
    settings = load_settings(config)
    store = open_store(settings)
    world = make_world(store)
    return config, settings, store, world, _members(store, world, n)


def _sqlite(folder: Path, n: int, people: list[list[tuple[str, bytes]]]) -> None:
    _config, settings, store, world, names = _setup(folder, {}, n)
    data, _photos = _archive(names, people)
    jobs = FaceImportJobs(store, settings)
    try:
        start = time.perf_counter()
        import_id = jobs.start(world.actor("admin"), "anh-dai-bieu.zip", data)
        jobs.wait(import_id)
        wall = time.perf_counter() - start
        _report("sqlite in-process", face_imports.get(store, world.actor("admin"), import_id), wall)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"sqlite in-process: archive {len(data) / (1 << 20):.1f} MB; peak RSS of this process {rss:.0f} MB")
    finally:
        jobs.shutdown()
        store.engine.dispose()


def _postgres(folder: Path, url: str, n: int, workers: int, people: list[list[tuple[str, bytes]]]) -> None:
    """The members split into one archive per worker: a job is one archive, its members in order."""
    config, settings, store, world, names = _setup(folder, {"database_url": url, "worker_heartbeat_s": 2.0}, n)
    archives = [_archive(names[k::workers], people)[0] for k in range(workers)]
    procs = [Worker(config, folder / f"worker-{i}.log", f"w{i}") for i in range(workers)]
    jobs, admin = FaceImportJobs(store, settings), world.actor("admin")
    try:
        wait_for(lambda: live_workers(settings.effective_database_url, 30) >= workers, 300, f"{workers} workers")
        start = time.perf_counter()
        ids = [jobs.start(admin, f"anh-{k}.zip", data) for k, data in enumerate(archives)]

        def ended() -> bool:
            return all(face_imports.get(store, admin, i).state not in face_imports.ACTIVE for i in ids)

        wait_for(ended, 24 * 3600, "the imports", every=0.5)
        wall = time.perf_counter() - start
        views = [face_imports.get(store, admin, i) for i in ids]
        for k, view in enumerate(views):
            _report(f"workers={workers} archive {k + 1}/{len(views)}", view, wall)
        total = sum(v.photos_total for v in views)
        rate = total / wall
        print(f"workers={workers}: {total} photos in {wall:.1f} s in all: {rate:.2f} photos/s, {rate / workers:.2f} per worker")
    finally:
        for proc in procs:
            proc.stop()
        jobs.shutdown()
        store.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=60)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--database-url", help="An empty PostgreSQL database (one round); a throwaway server otherwise.")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--smoke", action="store_true", help="4 members; PostgreSQL only with --database-url (1 worker).")
    args = parser.parse_args()
    if args.smoke:
        args.members, args.workers = 4, [1]
        args.skip_postgres = args.database_url is None
    if args.database_url and len(args.workers) > 1:
        parser.error("--database-url is one empty database: give one --workers count with it")
    people, source = _people()
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"photos: {source}; {args.members} members")
    work = Path(tempfile.mkdtemp(prefix="face-import-"))
    cluster = None
    try:
        if args.database_url is None:
            _sqlite(work / "sqlite", args.members, people)
        if not args.skip_postgres:
            if args.database_url is None:
                cluster = ThrowawayCluster()
                try:
                    cluster.start()
                except ClusterUnavailable as exc:
                    sys.exit(f"no PostgreSQL: {exc}")
            for n in args.workers:
                url = args.database_url if cluster is None else cluster.new_database()
                _postgres(work / f"pg-{n}", url, args.members, n, people)
        print(f"after the runs: load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

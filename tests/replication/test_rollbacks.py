"""A region rolled back to an older copy of itself loses no acknowledged write.

A restore from a backup, or an OS crash under ``appendfsync everysec``,
leaves a region's Redis older than what its peers hold of it: its own counter
slots and log ids stand below values the peers already merged. Counting on
in them would be absorbed by the peers' larger slots (increments lost) and
reuse log ids with other content (logs that never agree). The region must
notice and write in a new incarnation: at once after a restart, and at its
next pass when the older copy was loaded into a running server.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from crdtredis.embedded import RedisServer
from crdtredis.replication import Region
from tests.regions import converge
from tests.replication.conftest import Regions

pytestmark = pytest.mark.integration


def backup(server: RedisServer, into: Path) -> Path:
    """A point-in-time copy of the server's data (an RDB snapshot)."""
    server.client().save()
    copy = into / "backup.rdb"
    shutil.copy(server.directory / "dump.rdb", copy)
    return copy


def restore(server: RedisServer, copy: Path) -> None:
    """Stop the server and start it again from ``copy`` alone, on the same port."""
    server.kill()
    for entry in server.directory.iterdir():
        if entry.name.startswith("appendonly"):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copy(copy, server.directory / "dump.rdb")
    server.appendonly = False  # load the snapshot, not an AOF
    server.start()


def logical_copy(server: RedisServer) -> dict[bytes, bytes]:
    """Every key's DUMP: a copy that can be loaded into the running server."""
    client = server.client()
    dumps = {key: client.dump(key) for key in client.scan_iter()}
    return {key: payload for key, payload in dumps.items() if payload is not None}


def load_logical_copy(server: RedisServer, copy: dict[bytes, bytes]) -> None:
    """Replace the server's data with ``copy`` without restarting it (its scripts stay)."""
    client = server.client()
    client.flushall()
    for key, payload in copy.items():
        client.restore(key, 0, payload)


def log_of(region: Region) -> list[object]:
    return region.sequence("log").to_list()


def test_writes_after_a_restore_from_a_backup_are_all_counted(
    regions: Regions, tmp_path: Path
) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    eu.counter("c").incr(5)
    eu.sequence("log").append("e1")
    converge([eu, us])
    copy = backup(regions.servers["eu"], tmp_path)
    eu.counter("c").incr(3)
    eu.sequence("log").append("e2")
    assert us.sync_peer("eu").ok
    restore(regions.servers["eu"], copy)
    # The same process writes on: 11 increments acknowledged in all.
    eu.counter("c").incr(3)
    eu.sequence("log").append("e3")
    converge([eu, us])
    assert eu.counter("c").value() == us.counter("c").value() == 11
    assert log_of(eu) == log_of(us)
    assert sorted(map(str, log_of(eu))) == ["e1", "e2", "e3"]


def test_a_process_started_after_a_restore_counts_in_a_new_slot(
    regions: Regions, tmp_path: Path
) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    eu.counter("c").incr(5)
    copy = backup(regions.servers["eu"], tmp_path)
    eu.counter("c").incr(3)
    converge([eu, us])
    restore(regions.servers["eu"], copy)
    fresh = regions.open("eu", ("us",))
    assert fresh.replica != eu.replica
    fresh.counter("c").incr(2)
    converge([fresh, us])
    assert fresh.counter("c").value() == us.counter("c").value() == 10


def test_an_older_copy_loaded_into_a_running_server_is_found_at_the_next_pass(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    eu.counter("c").incr(5)
    converge([eu, us])
    copy = logical_copy(regions.servers["eu"])
    eu.counter("c").incr(3)
    assert us.sync_peer("eu").ok
    old = eu.incarnation
    load_logical_copy(regions.servers["eu"], copy)
    report = eu.sync_peer("us")
    assert not report.ok and "older copy" in str(report.error)
    assert eu.incarnation != old
    eu.counter("c").incr(3)
    converge([eu, us])
    assert eu.counter("c").value() == us.counter("c").value() == 11


def test_a_region_that_was_not_rolled_back_keeps_its_incarnation_across_passes(
    regions: Regions,
) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    old = eu.incarnation
    for _ in range(3):
        eu.counter("c").incr()
        us.counter("c").incr()
        converge([eu, us])
    assert eu.incarnation == old
    assert eu.counter("c").value() == us.counter("c").value() == 6


def test_a_process_that_never_saw_the_restart_is_moved_to_the_new_incarnation(
    regions: Regions, tmp_path: Path
) -> None:
    first, second = regions.open("eu", ("us",)), regions.open("eu", ("us",))
    us = regions.open("us", ("eu",))
    first.counter("c").incr(5)
    copy = backup(regions.servers["eu"], tmp_path)
    second.counter("c").incr(3)
    converge([first, us])
    old = first.replica
    restore(regions.servers["eu"], copy)
    first.counter("c").incr(1)  # meets NOSCRIPT, renews, loads the scripts again
    second.counter("c").incr(2)  # finds the scripts loaded: refused as stale, then moved on
    assert first.replica == second.replica != old
    converge([first, us])
    assert first.counter("c").value() == us.counter("c").value() == 11


def test_a_user_who_may_not_run_info_never_renews_the_identity(regions: Regions) -> None:
    server = regions.servers["eu"]
    server.client().acl_setuser(
        "ops", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@all", "-info"]
    )
    app = regions.open("eu", ())
    ops = Region("eu", f"redis://ops:pw@127.0.0.1:{server.port}/0")
    first = app.incarnation
    app.counter("c").incr(1)
    ops.counter("c").incr(1)
    app.counter("c").incr(1)
    assert app.incarnation == ops.incarnation == first
    assert list(app.counter("c").state().p.slots) == [app.replica]


def test_a_head_below_its_index_is_not_taken_for_a_rollback(regions: Regions) -> None:
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    for i in range(5):
        eu.counter(f"k{i}").incr(1)
    eu.client.hset(eu.layout.head_key(eu.layout.shard_of("k0")), "v", 0)  # tampered head
    first = eu.incarnation
    for _ in range(3):
        us.sync()
        assert eu.sync()[0].ok
    assert eu.incarnation == first


def test_a_restart_from_an_older_aof_that_kept_the_scripts_is_noticed(
    regions: Regions, tmp_path: Path
) -> None:
    """Redis 6.2 writes SCRIPT LOAD into its AOF: no NOSCRIPT tells of the restart."""
    server = regions.servers["eu"]
    eu, us = regions.open("eu", ("us",)), regions.open("us", ("eu",))
    eu.counter("c").incr(5)
    converge([eu, us])
    aofs = sorted(p for p in server.directory.iterdir() if p.name.startswith("appendonly"))
    copies = tmp_path / "aof"
    copies.mkdir()
    for path in aofs:  # what an OS crash under appendfsync everysec could leave
        (shutil.copytree if path.is_dir() else shutil.copy)(path, copies / path.name)
    eu.counter("c").incr(3)
    assert us.sync_peer("eu").ok
    server.kill()
    for path in aofs:
        shutil.rmtree(path) if path.is_dir() else path.unlink()
        (shutil.copytree if path.is_dir() else shutil.copy)(copies / path.name, path)
    server.start()
    eu.counter("c").incr(3)  # the same process writes on
    converge([eu, us])
    assert eu.counter("c").value() == us.counter("c").value() == 11


def test_passes_at_once_that_find_one_rollback_renew_the_incarnation_once(
    regions: Regions,
) -> None:
    """Both peers have merged more of eu than it holds; eu's two passes run side by side."""
    for _ in range(10):
        for server in regions.servers.values():
            server.client().flushall()
        us, ap = regions.open("us", ()), regions.open("ap", ())
        eu = regions.open("eu", ("us", "ap"))
        eu.incr_many({f"c{i}": 1 for i in range(50)})
        for peer in (us, ap):
            cursor = {"inc": eu.incarnation, "shards": eu.layout.shards, "local": peer.incarnation}
            cursor.update({str(s): 10**6 for s in range(eu.layout.shards)})
            peer.client.hset(peer.layout.cursor_key("eu"), mapping=cursor)
        before = eu.incarnation
        reports = eu.sync()
        assert any("older copy" in str(r.error) for r in reports)
        epochs = int(eu.client.hget(eu.layout.identity_key, "epoch"))
        assert eu.incarnation != before and epochs == 2  # one renewal, not one per pass

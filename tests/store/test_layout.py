"""Invariant 5: every script's keys share one Redis Cluster hash slot."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from crdtredis.store.layout import KeyLayout, name_matcher

NAMES = st.text(st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1, max_size=40)


@given(name=NAMES, shards=st.integers(min_value=1, max_value=4096))
def test_an_object_and_its_shard_bookkeeping_share_a_hash_slot(name: str, shards: int) -> None:
    layout = KeyLayout("crdt", shards)
    shard = layout.shard_of(name)
    slots = {key_slot(k.encode()) for k in (layout.data_key(name), *layout.shard_keys(shard))}
    assert len(slots) == 1


@given(name=NAMES)
def test_names_survive_the_key_round_trip(name: str) -> None:
    layout = KeyLayout()
    assert layout.name_of(layout.data_key(name)) == name


def test_bookkeeping_keys_never_match_the_data_pattern() -> None:
    layout = KeyLayout()
    pattern_head = layout.data_pattern.rstrip("*")
    for key in (layout.head_key(3), layout.changes_key(3), layout.identity_key):
        assert not key.startswith(pattern_head)


@pytest.mark.parametrize("prefix", ["", "a:b", "{x}", "a#b"])
def test_prefixes_that_would_break_the_layout_are_refused(prefix: str) -> None:
    with pytest.raises(ValueError, match="prefix"):
        KeyLayout(prefix)


GLOBS = ["*", "a*", "[^a]*", "[a-b]1", "?2", "a\\*", "[!a]*", "*[0-9]", "[\\]]x", "a?c*", "[]"]
GLOBS += ["caf??", "caf?", "café", "[c]af*"]
GLOB_NAMES = ["a1", "b1", "c2", "a*", "!x", "]x", "abc", "a", "zz9", "[]", "café", "caf"]


@pytest.mark.parametrize("pattern", GLOBS)
def test_name_patterns_match_as_redis_matches_keys(shared_server: Any, pattern: str) -> None:
    client = shared_server.client(decode_responses=True)
    client.delete(*(f"globs:{n}" for n in GLOB_NAMES))
    client.mset({f"globs:{n}": 1 for n in GLOB_NAMES})
    by_redis = {k[len("globs:") :] for k in client.keys(f"globs:{pattern}")}
    assert {n for n in GLOB_NAMES if name_matcher(pattern)(n)} == by_redis

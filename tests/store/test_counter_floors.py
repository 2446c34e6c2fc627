"""An increment returns the pure model's value whatever floors a delete left, even above a slot.

A floor can stand above its slot, or have no slot at all, while a large
object is merged in pieces; the value counts each slot above its floor and
never below zero, in the script as in :class:`~crdtredis.crdt.PNCounter`.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from crdtredis.crdt import PNCounter
from crdtredis.store import RegionStore
from tests.store.conftest import Backend

AMOUNTS = st.sampled_from([0, 1, 3, 7, 10**17, 2**62])
SLOTS = st.dictionaries(
    st.sampled_from(["", "-", "~", "~-"]).flatmap(
        lambda mark: st.sampled_from(["me", "us.aaaa1111", "ap.bbbb2222"]).map(
            lambda replica: (mark, replica)
        )
    ),
    AMOUNTS,
    max_size=8,
)


def test_an_increment_returns_the_models_value_over_any_floors(server_backend: Backend) -> None:
    eu = RegionStore("eu", server_backend())

    @settings(max_examples=60)
    @given(slots=SLOTS, op=st.sampled_from(["incr", "decr"]), n=st.sampled_from([0, 1, 4, 1000]))
    def check(slots: dict[tuple[str, str], int], op: str, n: int) -> None:
        name = "c"
        eu.client.delete(eu.layout.data_key(name))
        fields = {"": "pn"}
        for (mark, replica), value in slots.items():
            fields[mark + (eu.replica if replica == "me" else replica)] = str(value)
        eu.client.hset(eu.layout.data_key(name), mapping=fields)
        counter = eu.counter(name)
        returned = getattr(counter, op)(n)
        model = PNCounter.from_dict(eu.export(name), eu.replica).value()
        assert returned == counter.value() == model

    check()

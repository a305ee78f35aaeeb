"""The writer's partitioner: a compiled murmur2 (``murmurhash2``) that must be aiokafka's and the Java client's
murmur2 on every key, or records keyed alike would land in other partitions than other clients put them."""

from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.kafka.writer import murmur2, partition_for

# The Java client's own test vectors (org.apache.kafka.common.utils.UtilsTest.testMurmur2).
JAVA = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


@settings(max_examples=2_000)
@given(st.binary(max_size=300))
def test_murmur2_is_aiokafkas_on_any_key(key: bytes) -> None:
    assert murmur2(key) == aiokafka_murmur2(key) & 0xFFFFFFFF
    for partitions in (1, 3, 6, 1000):
        assert partition_for(key, partitions) == (aiokafka_murmur2(key) & 0x7FFFFFFF) % partitions


def test_murmur2_matches_the_java_clients_vectors() -> None:
    for key, signed in JAVA.items():
        assert murmur2(key) == signed & 0xFFFFFFFF, key

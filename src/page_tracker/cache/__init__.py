"""The seed-002 cache: a :class:`Manager` of :class:`Node` s over ordered storages
(in-process LRU + TTL, then Redis), stampede protection, and a Bloom filter of known
keys. The core layer: it knows no feature; features declare their nodes."""

from page_tracker.cache.bloom import KnownKeys
from page_tracker.cache.manager import CACHE, Manager
from page_tracker.cache.node import LOCAL, REDIS, Node
from page_tracker.cache.serializers import JSONSerializer, Serializer
from page_tracker.cache.setup import add_node, init_cache
from page_tracker.cache.storages import LocalStorage, RedisStorage, Storage

__all__ = [
    "CACHE",
    "LOCAL",
    "REDIS",
    "JSONSerializer",
    "KnownKeys",
    "LocalStorage",
    "Manager",
    "Node",
    "RedisStorage",
    "Serializer",
    "Storage",
    "add_node",
    "init_cache",
]

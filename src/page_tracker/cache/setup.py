"""The app's :class:`~page_tracker.cache.manager.Manager`, built from the settings:
the local storage always, Redis after it in Redis mode."""

from __future__ import annotations

from functools import partial
from typing import Any

from flask import Flask

from page_tracker.cache.manager import CACHE, Manager, redis_error_counter
from page_tracker.cache.node import LOCAL, REDIS, Node
from page_tracker.cache.storages import LocalStorage, RedisStorage
from page_tracker.metrics import add_gauge
from page_tracker.redis_client import REDIS as REDIS_CLIENT
from page_tracker.settings import SETTINGS


def init_cache(app: Flask) -> Manager:
    settings = SETTINGS.get(app)
    manager = Manager()
    local = LocalStorage(maxsize=settings.cache_local_size)
    manager.register_storage(LOCAL, local)
    client = REDIS_CLIENT.find(app)
    if client is not None:
        storage = RedisStorage(client, settings.redis_key_prefix, redis_error_counter(manager))
        manager.register_storage(REDIS, storage)
    add_gauge(app, "cache_local_entries", local.__len__)
    return CACHE.put(app, manager)


def add_node(app: Flask, node: Node[Any], ttl: float) -> None:
    """Register ``node`` with the app's manager (TTL ``ttl``) and show its
    ``cache_NAME_hits`` / ``_misses`` / ``_loads`` among the app's gauges (``/readyz``)."""
    manager = CACHE.get(app)
    manager.register_node(node, ttl)
    name = node.name
    for event, label in (("hit", "hits"), ("miss", "misses"), ("load", "loads")):
        metric = f"{name}.{event}"
        add_gauge(app, f"cache_{name}_{label}", partial(_count, manager, metric))


def _count(manager: Manager, metric: str) -> int:
    return manager.stats().get(metric, 0)

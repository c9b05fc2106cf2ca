"""The token bucket behind the 429s: a burst, then the rate, per key, bounded memory."""

from __future__ import annotations

from shared.ratelimit import RateLimiter


def test_a_burst_then_a_wait_that_says_how_long() -> None:
    limit = RateLimiter(per_minute=6, burst=3)  # one token every 10 s
    assert [limit.check("alice", now=0.0) for _ in range(3)] == [None, None, None]
    assert limit.check("alice", now=0.0) == 10
    assert limit.check("alice", now=4.0) == 6
    assert limit.check("alice", now=10.0) is None  # one token came back
    assert limit.check("alice", now=10.0) == 10


def test_keys_are_independent() -> None:
    limit = RateLimiter(per_minute=60, burst=1)
    assert limit.check("alice", now=0.0) is None
    assert limit.check("alice", now=0.0) == 1
    assert limit.check("bob", now=0.0) is None


def test_the_bucket_never_holds_more_than_the_burst() -> None:
    limit = RateLimiter(per_minute=60, burst=2)
    limit.check("alice", now=0.0)
    assert [limit.check("alice", now=3600.0) for _ in range(3)] == [None, None, 1]


def test_zero_per_minute_means_no_limit() -> None:
    limit = RateLimiter(per_minute=0, burst=1)
    assert not limit.enabled
    assert all(limit.check("alice", now=0.0) is None for _ in range(100))


def test_memory_is_bounded_by_forgetting_the_least_recent_keys() -> None:
    limit = RateLimiter(per_minute=1, burst=1, max_keys=3)
    for key in ("a", "b", "c", "d"):
        assert limit.check(key, now=0.0) is None
    assert len(limit._buckets) == 3
    assert limit.check("a", now=0.0) is None  # forgotten: a full bucket again
    assert limit.check("d", now=0.0) == 60

"""The token bucket of the API's rate limit, on a stepped clock."""

from __future__ import annotations

import pytest

from eventgate.api.ratelimit import RateLimiter, retry_after_header


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_the_next_request_waits_one_refill() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=8, burst=5, clock=clock)  # 1/8 s: exact in binary
    assert [limiter.take("a") for _ in range(5)] == [0.0] * 5
    assert limiter.take("a") == 0.125
    clock.now += 0.0625
    assert limiter.take("a") == 0.0625  # half a request refilled
    clock.now += 0.0625
    assert limiter.take("a") == 0.0
    assert limiter.take("a") == 0.125


def test_refused_requests_take_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1, burst=1, clock=clock)
    assert limiter.take("a") == 0.0
    for _ in range(100):  # hammering while empty does not push the wait further out
        assert limiter.take("a") == pytest.approx(1.0)
    clock.now += 1.0
    assert limiter.take("a") == 0.0


def test_the_bucket_refills_to_the_burst_and_no_further() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=100, burst=3, clock=clock)
    limiter.take("a")
    clock.now += 3600
    assert [limiter.take("a") for _ in range(4)][:3] == [0.0] * 3
    assert limiter.take("a") > 0


def test_callers_have_their_own_buckets() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1, burst=2, clock=clock)
    assert limiter.take("a") == limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    assert limiter.take("b") == 0.0


def test_a_sustained_rate_is_what_passes_over_time() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=50, burst=200, clock=clock)
    passed = 0
    for _ in range(10_000):  # 1,000 requests/s for 10 s
        clock.now += 0.001
        passed += limiter.take("a") == 0.0
    assert passed == pytest.approx(200 + 50 * 10, abs=2)


def test_a_clock_that_steps_back_refills_nothing() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1, burst=1, clock=clock)
    limiter.take("a")
    clock.now -= 50
    assert limiter.take("a") == pytest.approx(1.0)


def test_the_number_of_buckets_is_capped_least_recent_first() -> None:
    clock = Clock()
    limiter = RateLimiter(rate_per_s=1, burst=1, clock=clock, max_buckets=3)
    for caller in ("a", "b", "c"):
        limiter.take(caller)
    limiter.take("a")  # refused, but a is now the most recently seen
    limiter.take("d")  # evicts b
    assert len(limiter) == 3
    assert limiter.take("a") > 0  # a kept its (empty) bucket
    assert limiter.take("b") == 0.0  # b came back full


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_limits_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate_per_s"):
        RateLimiter(rate_per_s=rate, burst=burst)


@pytest.mark.parametrize(("wait", "header"), [(0.001, "1"), (1.0, "1"), (1.01, "2"), (0, "1")])
def test_retry_after_is_whole_seconds_rounded_up(wait: float, header: str) -> None:
    assert retry_after_header(wait) == header

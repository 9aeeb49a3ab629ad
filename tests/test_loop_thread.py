"""The coroutine-in-a-thread helper that watch, probe_in_background, probe and the panels share."""

import asyncio
import threading
import time

import pytest

from sselab._loop_thread import LoopThread, run_blocking


async def answer(value, delay=0.0):
    await asyncio.sleep(delay)
    return value


async def fail():
    raise ValueError("from the coroutine")


def test_a_loop_thread_gives_its_result_to_a_waiter_and_to_an_await_and_calls_on_done_once():
    done = []
    job = LoopThread(answer(42, 0.05), name="test-loop-thread", on_done=lambda: done.append(1))
    assert job.result(timeout=5) == 42
    assert asyncio.run(_awaited(job)) == 42  # awaitable from another loop, also once done
    job.stop()
    assert done == [1] and not [t for t in threading.enumerate() if t.name == "test-loop-thread"]


async def _awaited(job):
    return await job


def test_a_loop_thread_hands_over_the_error_and_stop_cancels_a_long_wait():
    with pytest.raises(ValueError, match="from the coroutine"):
        LoopThread(fail(), name="test-loop-thread").result(timeout=5)
    job = LoopThread(answer(1, 60), name="test-loop-thread")
    started = time.monotonic()
    job.stop()
    assert time.monotonic() - started < 2 and job.done()
    with pytest.raises(asyncio.CancelledError):
        job.result(timeout=1)


def test_run_blocking_works_with_and_without_a_running_loop():
    assert run_blocking(answer, "plain") == "plain"

    async def inside_a_loop():  # a notebook cell: asyncio.run would refuse here
        return run_blocking(answer, "in a thread")

    assert asyncio.run(inside_a_loop()) == "in a thread"

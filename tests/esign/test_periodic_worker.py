"""esign.periodic.PeriodicWorker: lanes run the step side by side, and each goes on until the
work is done."""

from __future__ import annotations

import asyncio

import pytest

from esign.periodic import PeriodicWorker


async def test_two_lanes_run_the_step_at_the_same_time_and_share_the_work():
    work = list(range(10))
    running, most_at_once = 0, 0
    another_lane_in = asyncio.Event()

    async def step() -> int:
        nonlocal running, most_at_once
        if not work:
            return 0
        work.pop()
        running += 1
        most_at_once = max(most_at_once, running)
        try:
            if running == 1:
                # Held until a second lane enters: with one lane this times out.
                await asyncio.wait_for(another_lane_in.wait(), 1)
            else:
                another_lane_in.set()
            await asyncio.sleep(0.01)
        finally:
            running -= 1
        return 1

    worker = PeriodicWorker("test", step, interval=60, lanes=2)
    task = asyncio.create_task(worker.run())
    try:
        async with asyncio.timeout(5):
            while work or running:
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert most_at_once == 2

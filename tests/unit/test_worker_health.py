"""The worker's /health verdict: stuck means free threads, a job ready long enough, no claim."""

import time

import pytest

from mierloos_entrypoints.worker.health import DatabaseState, ProcessState, health_report


def process(*, claimed_ago: float, in_hand: int = 0, threads: int = 4) -> ProcessState:
    now = time.time()
    return ProcessState(
        pid=1,
        alive=True,
        last_loop=now,
        last_claim=now - claimed_ago,
        in_hand=in_hand,
        threads=threads,
    )


def database(ready_ago: float | None) -> DatabaseState:
    return DatabaseState(True, None, None if ready_ago is None else time.time() - ready_ago)


@pytest.mark.parametrize(
    ("ready_ago", "claimed_ago", "in_hand", "status"),
    [
        (None, 600, 0, 200),  # idle, nothing to do
        (5, 600, 0, 200),  # a job just became ready: give the worker its window
        (60, 5, 0, 200),  # claiming: the ready job is someone else's or next in line
        (60, 600, 4, 200),  # every thread busy: no capacity to claim with
        (60, 600, 3, 503),  # free thread, job ready a minute, nothing claimed: stuck
    ],
)
def test_stuck_needs_free_capacity_a_ready_job_and_no_claim_for_the_window(
    ready_ago, claimed_ago, in_hand, status
):
    code, body = health_report(
        lambda: database(ready_ago),
        [process(claimed_ago=claimed_ago, in_hand=in_hand)],
        stuck_after=30,
    )
    assert code == status
    assert ("stuck" in body["workers"][0]) is (status == 503)


def test_an_unmigrated_or_unreachable_database_is_503():
    for state in (DatabaseState(True, "not migrated: run mierloos migrate"), DatabaseState(False)):
        code, body = health_report(lambda s=state: s, [process(claimed_ago=1)], stuck_after=30)
        assert code == 503
        assert body["status"] == "unavailable"

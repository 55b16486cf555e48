"""The link's retry budget: enough tries that a command gets through a link that corrupts 5 % of
its bytes, except with probability below 1e-9; no more than that."""
import numpy as np

from rig.board import wire
from rig.board.retry import (DESIGN_BYTE_ERROR, FAILURE_TARGET, MAX_ATTEMPTS, attempts_for, command_attempts,
                             exchange_bytes, failure_probability, silent_attempts)


def test_start_and_stop_get_through_a_five_percent_link_but_for_one_in_a_billion():
    assert DESIGN_BYTE_ERROR == 0.05 and FAILURE_TARGET == 1e-9
    for cmd in (wire.C_START, wire.C_STOP):
        n, nbytes = command_attempts(cmd), exchange_bytes(cmd)
        # the command and its ACK, both 7-byte envelopes, the ACK with its 2-byte payload
        assert nbytes == len(wire.command(cmd)) + len(wire.packet(wire.T_ACK, wire.ack_payload(cmd)))
        assert failure_probability(n, nbytes) < 1e-9 <= failure_probability(n - 1, nbytes)
        assert n == 36


def test_the_budget_agrees_with_a_simulated_lossy_link():
    # 200,000 exchanges of 16 bytes at 5 % byte corruption: the tries each needed
    rng = np.random.default_rng(7)
    ok = ~(rng.random((200_000, 16)) < 0.05).any(axis=1)
    assert abs(ok.mean() - 0.95 ** 16) < 0.005
    # three tries in a row fail (the old budget) about one command in six
    runs = ~ok[: len(ok) // 3 * 3].reshape(-1, 3)
    assert 0.16 < runs.all(axis=1).mean() < 0.19
    assert abs(failure_probability(3, 16) - runs.all(axis=1).mean()) < 0.005


def test_silence_ends_the_wait_sooner_with_the_same_confidence():
    # nothing at all back: the board is dead, or the 7-byte command was lost on its way in
    n = silent_attempts(wire.C_STOP)
    assert failure_probability(n, 7) < 1e-9 <= failure_probability(n - 1, 7)
    assert n == 18 < command_attempts(wire.C_STOP) * 2


def test_a_clean_link_needs_one_try_and_long_answers_are_bounded():
    assert attempts_for(16, p=0.0) == 1
    assert command_attempts(wire.C_STATS) == MAX_ATTEMPTS        # 78 bytes at 5 %: capped
    assert command_attempts(wire.C_IDENTIFY) < MAX_ATTEMPTS
    assert failure_probability(command_attempts(wire.C_IDENTIFY), exchange_bytes(wire.C_IDENTIFY)) < 1e-9

"""Recording subprocess for the crash tests: records from a board through BoardLink and a
TrialRecorder, and writes every frame to a plain side log *before* handing it to the
recorder, so the side log is always a superset of what the journal can hold.

    python record_proc.py DATA_DIR SIDE_LOG URL

Prints "recording <session> <trial>" once streaming, then records until killed.
"""
import os
import sys
import time

import numpy as np

# The side log's own layout, declared here independently of rig.store.journal.
SIDE_DTYPE = np.dtype([("seq", "<u2"), ("t_us", "<u4"), ("t_s", "<f8"), ("host_t_s", "<f8"),
                       ("raw", "<i4", (4,)), ("status", "<u2")])


def main():
    data_dir, side_log, url = sys.argv[1:4]
    import rig.sim  # noqa: F401  (registers sim://)
    from rig.board.link import BoardLink
    from rig.store import Store

    store = Store.open(data_dir)
    sid = store.new_session("K1", {"name": "crash-test", "version": "1"},
                            {"board_id": "sim", "firmware": "", "rate_hz": 80, "port": url},
                            {"id": "nominal", "hash": "", "positions_mm": None})
    link = BoardLink(url)
    link.open()
    rec = store.begin_trial(sid, {"name": "bipedal eyes open", "stance": "bipedal", "eyes": "open"},
                            1, stats_source=lambda: link.stats.as_dict())
    fd = os.open(side_log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def listener(batch):
        side = np.empty(len(batch), SIDE_DTYPE)
        for name in SIDE_DTYPE.names:
            side[name] = getattr(batch, name)
        os.write(fd, side.tobytes())
        rec.append(batch)

    link.add_listener(listener)
    link.start()
    print("recording", sid, rec.id, flush=True)
    while True:
        time.sleep(0.5)


if __name__ == "__main__":
    main()

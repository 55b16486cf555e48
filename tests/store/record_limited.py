"""Recording subprocess for the disk-full tests: like record_proc.py, but every frame goes to
stdout (a pipe: not subject to RLIMIT_FSIZE) before the recorder journals it, and the
recording stops as the runner does, at the first journal failure.

    python record_limited.py DATA_DIR URL LIMIT_BYTES

The file size limit (RLIMIT_FSIZE, SIGXFSZ ignored so writes fail with EFBIG) is set after
the store is opened. Exit 3 with the one-line message on stderr when the journal failed.
"""
import os
import resource
import signal
import sys
import time

import numpy as np

from tests.store.record_proc import SIDE_DTYPE


def main():
    data_dir, url, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
    import rig.sim  # noqa: F401  (registers sim://)
    from rig.board.link import BoardLink
    from rig.errors import RigError
    from rig.store import Store
    from rig.store.recorder import stop_message

    store = Store.open(data_dir)
    sid = store.new_session("K2", {"name": "disk-full-test", "version": "1"},
                            {"board_id": "sim", "firmware": "", "rate_hz": 80, "port": url},
                            {"id": "nominal", "hash": "", "positions_mm": None})
    link = BoardLink(url)
    link.open()
    if limit > 0:     # 0: no limit (a real small disk, filled from outside)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    rec = store.begin_trial(sid, {"name": "bipedal eyes open", "stance": "bipedal", "eyes": "open"},
                            1, stats_source=lambda: link.stats.as_dict())

    def side(batch):
        out = np.empty(len(batch), SIDE_DTYPE)
        for name in SIDE_DTYPE.names:
            out[name] = getattr(batch, name)
        os.write(1, out.tobytes())

    link.add_listener(side)          # first: the side log sees every frame received
    rec.attach(link)
    link.start()
    try:
        while True:
            rec.check()
            time.sleep(0.02)
    except RigError as e:
        try:
            tid = rec.abort(f"recording stopped: {e}")
            problem = None
        except RigError as p:
            tid, problem = None, p
        try:
            store.set_session_status(sid, "incomplete")
        except RigError as p:
            problem = problem or p
        msg = stop_message(e, rec, tid, problem)
        link.close()
        sys.stderr.write(f"{msg or e}\n")
        sys.exit(3)


if __name__ == "__main__":
    main()

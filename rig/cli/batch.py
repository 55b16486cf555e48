"""A batch across processes in which the calling process works too.

``ordered_map(fn, items, jobs)`` yields ``fn(item)`` for every item, in the order given. The
calling process works on them from the first moment, while ``jobs - 1`` workers start from a
fork server (a fresh process that imports ``preload`` once; starting it and its imports take
as long as a few items, and the caller's own import of the same modules overlaps with it) and
join in. Every process takes the next item from a shared counter, so none sits idle while
another still has a long one.

Ctrl-C is the calling process's alone: the fork server and the workers never see it (no
traceback from them); the caller stops the workers on the way out, however it leaves.
"""
from __future__ import annotations

import contextlib
import queue
import signal
import threading


def ordered_map(fn, items, jobs: int, preload=()):
    """``fn(item)`` for each item in order; ``fn`` a module-level function (it is pickled by
    name) that returns rather than raises for anything the caller counts as a result."""
    items = list(items)
    n = len(items)
    if jobs <= 1 or n <= 1:
        yield from map(fn, items)
        return
    ctx = _context(preload)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver, resource_tracker
        resource_tracker.ensure_running()    # first: it unblocks Ctrl-C on its way out
        with _sigint_blocked():              # the fork server inherits a blocked Ctrl-C
            forkserver.ensure_running()      # boots while this process works (not waited for)
    # item 0 is this process's own: it always works, however soon the workers start
    counter = ctx.Value("q", 1)
    got = {}                                 # results not yet yielded, by index
    workers = _Workers(ctx, min(jobs, n) - 1, (fn, items, counter))
    try:
        got[0] = fn(items[0])
        for i in range(n):
            while i not in got:
                k = _claim(counter, n)
                if k is not None:
                    got[k] = fn(items[k])
                elif workers.running:        # every item is taken: wait for a worker's result
                    workers.take(got, block=True)
                else:                        # the workers ended without it (one was killed)
                    got[i] = fn(items[i])
                workers.take(got, block=False)
            yield got.pop(i)
    finally:
        with counter.get_lock():
            counter.value = n                # no worker takes another item
        workers.stop()


def _context(preload):
    import multiprocessing

    # never "fork": forking a process that has other threads (a GUI, a link reader, a test
    # runner's, numpy's BLAS pool, the thread below) can copy a held lock into the child and
    # hang it; forking the rig command itself once its engine was imported hung a worker on
    # such a lock (a futex) under a loaded test run. A fork server is a fresh, single-threaded
    # process that imports the engine once; every worker forks from it ready to work.
    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(list(preload))
    return ctx


@contextlib.contextmanager
def _sigint_blocked():
    """Ctrl-C held back (not lost) meanwhile. A process started meanwhile keeps the blocked
    signal mask (fork and exec both pass it on), and so do the workers the fork server forks:
    a terminal's Ctrl-C, sent to the whole process group, reaches only the calling process,
    which stops the rest. Without it, each of them printed a KeyboardInterrupt traceback.
    (multiprocessing's resource tracker blocks and then unblocks Ctrl-C around its own start:
    started inside this block, it would unblock it for what follows.)"""
    if not hasattr(signal, "pthread_sigmask"):          # not POSIX: no fork server either
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _claim(counter, n: int) -> int | None:
    """The next item nobody has taken, or None when all are taken."""
    with counter.get_lock():
        k = counter.value
        if k >= n:
            return None
        counter.value = k + 1
    return k


def _work(fn, items, counter, conn) -> None:
    """A worker: take items until none is left, sending (index, result) for each."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the calling process stops us, not Ctrl-C
    try:
        while (k := _claim(counter, len(items))) is not None:
            conn.send((k, fn(items[k])))
    except BrokenPipeError:                        # the calling process is gone: so are we
        pass


class _Workers:
    """The worker processes, and a thread of the calling process that starts them (each start
    waits for the fork server to have booted; the caller works meanwhile) and then passes their
    results on as they come, so that a worker never waits for the busy caller to read them."""

    def __init__(self, ctx, count: int, args: tuple):
        self._ctx = ctx
        self._procs = []
        self._started = threading.Event()
        self._inbox: queue.Queue = queue.Queue()      # (index, result); None: all have ended
        self.running = True
        self._thread = threading.Thread(target=self._run, args=(count, args), daemon=True,
                                        name="rig-batch-workers")
        self._thread.start()

    def _run(self, count, args):
        from multiprocessing.connection import wait
        conns = []
        try:
            for _ in range(count):
                recv, send = self._ctx.Pipe(duplex=False)
                p = self._ctx.Process(target=_work, args=(*args, send), daemon=True)
                try:
                    p.start()
                except Exception:            # no (more) workers: the caller does the rest
                    recv.close()
                    break
                finally:
                    send.close()             # the worker's copy only: its end is our EOF
                self._procs.append(p)
                conns.append(recv)
            self._started.set()
            while conns:
                for c in wait(conns):
                    try:
                        self._inbox.put(c.recv())
                    except EOFError:          # that worker has ended
                        conns.remove(c)
                        c.close()
        finally:
            self._started.set()
            self._inbox.put(None)

    def take(self, got: dict, block: bool = False) -> None:
        """Move the results that have come into ``got``; with ``block``, wait for one first
        (or for the news that every worker has ended: then ``running`` turns false)."""
        while self.running:
            try:
                item = self._inbox.get(block=block)
            except queue.Empty:
                return
            if item is None:
                self.running = False
            else:
                got[item[0]] = item[1]
            block = False

    def stop(self) -> None:
        """No worker left running. Called once every result is in, or when the caller gives
        up (an error, Ctrl-C): either way nothing of theirs is still wanted."""
        self._started.wait()                 # the starting thread does not own them any more
        for p in self._procs:
            if p.is_alive():                 # (an ended worker's pid may be another's by now)
                p.terminate()
        for p in self._procs:
            p.join()
        self._thread.join()

"""The django-q2 cluster with a bounded shutdown (``manage.py qcluster`` runs this).

Why: django-q2 1.11's ``Sentinel.stop`` (``django_q/cluster.py``) puts its "STOP" pills *behind*
every task the pusher has already taken from the broker into the in-memory queue (up to
``queue_limit``), so a SIGTERM first runs all of them, each for up to ``Q_TIMEOUT`` seconds: with
``queue_limit`` 50, two workers and slow syncs, that is hours of "stopping". Its waits have no
deadline either, and its signal handler stops the cluster inside the handler (``Event.set`` and
``join`` in signal context, django-q2/django-q2#346). Worst, a SIGTERM to the whole process group
(systemd's default, ``kill -- -PGID``) kills the sentinel inside ``stop_event.wait()``; the main
process's ``stop_event.set()`` then waits forever for that dead sleeper to acknowledge the
wake-up (``multiprocessing.Condition.notify_all``): "stopping." logged, defunct children, a hang
that only SIGKILL ends (issue 13, finding 6).

What this module changes, and nothing else (the guard, workers, pusher and monitor are
django-q2's own):

- ``GracefulSentinel.stop``: tasks still waiting in the in-memory queue are taken back out and
  handed back to the broker (ORM broker: the row's lock is released so the next cluster runs it
  at once; a broker without receipts, Redis: the package is enqueued again). Only tasks already
  running are finished (django-q2 ends each at ``Q_TIMEOUT`` by SIGALRM); a worker still alive
  ``STOP_GRACE_SECONDS`` before ``Q_TIMEOUT`` is terminated, then killed.
- ``BoundedCluster``: the signal handler only records the signal; the main loop sets the stop
  event from a thread it can abandon, waits for the sentinel and, as a last resort at
  ``Q_TIMEOUT`` after the signal, kills every process left under it (psutil), so nothing
  outlives the limit.

A task cut short by the deadline is redelivered after ``Q_RETRY`` like after a crash; sync runs,
outbox writes and webhook events are idempotent (docs/architecture.md, "Worker shutdown").
"""

from __future__ import annotations

import contextlib
import logging
import queue
import signal
import threading
import time
from unittest import mock

import psutil
from django.utils import timezone
from django_q import cluster as q_cluster
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.status import Stat

logger = logging.getLogger("django-q")

#: Seconds before ``Q_TIMEOUT`` at which the sentinel stops waiting for running tasks.
STOP_GRACE_SECONDS = 3.0
#: Seconds between SIGTERM and SIGKILL for a process that outlives a deadline.
KILL_AFTER_SECONDS = 1.0


def stop_budget() -> float:
    """Seconds a stop may take in all: ``Q_TIMEOUT`` (30 when the setting has none)."""
    return float(Conf.TIMEOUT or 30)


class GracefulSentinel(q_cluster.Sentinel):
    """django-q2's sentinel whose stop gives back the tasks that have not started."""

    def stop(self) -> None:
        """Stop the pusher, hand queued tasks back, finish running ones, all within the budget.

        Runs in the sentinel process once the guard loop sees ``stop_event``. Never raises for a
        broker error (the tasks then come back after ``Q_RETRY`` through the broker's own
        redelivery); returns when every child has exited or has been killed.
        """
        started = time.monotonic()
        workers_deadline = started + max(1.0, stop_budget() - STOP_GRACE_SECONDS)
        monitor_deadline = started + max(1.5, stop_budget() - 1.0)
        Stat(self).save()
        logger.info("%s stopping cluster processes", self.name)
        self.event_out.set()
        # The pusher may be blocked in put() on a full queue: taking tasks out lets it see the
        # event. Whatever it still holds is flushed into the queue before its process exits.
        queued: list = []
        while self.pusher.is_alive():
            queued += self._take_queued(wait=0.1)
        queued += self._take_queued(wait=0.2)
        self._give_back(queued)
        for __ in range(len(self.pool)):
            self.task_queue.put("STOP")
        self.task_queue.close()
        self.task_queue.join_thread()
        self._wait_for(self.pool, workers_deadline, "worker")
        self.pool = []
        self.result_queue.put("STOP")
        self.result_queue.close()
        self.result_queue.join_thread()
        logger.info("%s waiting for the monitor.", self.name)
        self._wait_for([self.monitor], monitor_deadline, "monitor")
        Stat(self).save()

    def _take_queued(self, wait: float) -> list[dict]:
        """Tasks taken off the in-memory queue until it stays empty for ``wait`` seconds."""
        taken = []
        while True:
            try:
                task = self.task_queue.get(timeout=wait)
            except queue.Empty:
                return taken
            if task != "STOP":
                taken.append(task)

    def _give_back(self, tasks: list[dict]) -> None:
        """Return tasks that never started to the broker so another cluster runs them now."""
        if not tasks:
            return
        try:
            if isinstance(self.broker, ORM):
                ids = [task["ack_id"] for task in tasks]
                OrmQ.objects.using(Conf.ORM).filter(pk__in=ids).update(lock=timezone.now())
            else:
                for task in tasks:
                    if task.pop("ack_id", None) is None:  # no receipt: the broker forgot it
                        task.pop("cluster", None)
                        self.broker.enqueue(SignedPackage.dumps(task))
        except Exception:
            logger.exception("Could not hand %d queued task(s) back to the broker", len(tasks))
            return
        logger.info("handed %d queued task(s) back to the broker", len(tasks))

    def _wait_for(self, processes: list, deadline: float, kind: str) -> None:
        """Wait until ``processes`` exit; at ``deadline`` terminate, then kill, what is left."""
        while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
            time.sleep(0.1)
            Stat(self).save()
        late = [p for p in processes if p.is_alive()]
        for p in late:
            logger.warning("%s %s outlived the stop deadline: terminating it", kind, p.name)
            p.terminate()
        for p in late:
            p.join(KILL_AFTER_SECONDS)
            if p.is_alive():
                p.kill()
                p.join(KILL_AFTER_SECONDS)


class BoundedCluster(q_cluster.Cluster):
    """django-q2's cluster process: signals only set a flag; the stop has a deadline."""

    def __init__(self, broker=None):
        super().__init__(broker)
        self.stop_signal: int | None = None

    def sig_handler(self, signum, frame) -> None:
        """Record SIGTERM/SIGINT; no locks or joins in signal context (django-q2#346)."""
        if self.stop_signal is None:
            self.stop_signal = signum

    def start(self) -> int:
        """Start the sentinel as django-q2 does, with `GracefulSentinel` in its place.

        django-q2 names the class inside ``Cluster.start``; it is swapped only for that call.
        """
        with mock.patch.object(q_cluster, "Sentinel", GracefulSentinel):
            return super().start()

    def run(self) -> int:
        """Block until a stop signal or the sentinel's death; stop; return the exit status."""
        while self.stop_signal is None and self.sentinel.is_alive():
            time.sleep(0.2)
        if self.stop_signal is None:
            logger.error("Q Cluster %s: the sentinel exited on its own", self.name)
            self.stop()
            return 1
        logger.info(
            "%s got signal %s", self.name, Conf.SIGNAL_NAMES.get(self.stop_signal, "UNKNOWN")
        )
        self.stop()
        return 0

    def stop(self) -> bool:
        """Ask the sentinel to stop; at ``Q_TIMEOUT`` kill whatever is left under this process.

        Returns False when the sentinel had already exited.
        """
        if not self.sentinel.is_alive():
            self._kill_leftovers()
            return False
        logger.info("Q Cluster %s stopping.", self.name)
        deadline = time.monotonic() + stop_budget()
        # Event.set() waits until every process asleep in stop_event.wait() acknowledges the
        # wake-up; a sentinel killed there (SIGTERM to the whole group kills it at once) never
        # does, and django-q2 hung forever on that set(). Here it runs in a thread we can abandon.
        threading.Thread(target=self.stop_event.set, name="stop-event", daemon=True).start()
        while self.sentinel.is_alive() and time.monotonic() < deadline:
            self.sentinel.join(0.2)
        if self.sentinel.is_alive():
            logger.error("Q Cluster %s: stop exceeded Q_TIMEOUT; killing it", self.name)
        self._kill_leftovers()
        logger.info("Q Cluster %s has stopped.", self.name)
        self.start_event = None
        self.stop_event = None
        return True

    @staticmethod
    def _kill_leftovers() -> None:
        """SIGKILL every process still descending from this one (normally none)."""
        children = psutil.Process().children(recursive=True)
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.send_signal(signal.SIGKILL)
        psutil.wait_procs(children, timeout=KILL_AFTER_SECONDS)

"""``manage.py qcluster``: django-q2's command, run with a bounded shutdown.

It replaces django-q2's command of the same name (``connectors`` is listed before ``django_q``
in ``INSTALLED_APPS``), so the Procfile, ``make run`` and every habit keep working. On SIGTERM or
SIGINT the cluster hands back the tasks that have not started, lets running ones finish and is
gone within ``Q_TIMEOUT`` seconds (`connectors.worker`; docs/architecture.md, "Worker shutdown").
"""

from __future__ import annotations

import os
import sys

from django.conf import settings
from django_q.management.commands.qcluster import Command as QClusterCommand

from connectors.worker import BoundedCluster


class Command(QClusterCommand):
    help = "Starts the django-q2 cluster; SIGTERM/SIGINT stop it within Q_TIMEOUT seconds."

    def handle(self, *args, **options) -> None:
        """Run the cluster until a stop signal (or once with ``--run-once``); exit 1 when the
        sentinel died on its own."""
        settings.SECRET_KEY  # noqa: B018 - django-q2 signs task packages with it
        if options.get("cluster_name"):
            os.environ["Q_CLUSTER_NAME"] = options["cluster_name"]
        cluster = BoundedCluster()
        cluster.start()
        if options.get("run_once"):
            cluster.stop()
            return
        status = cluster.run()
        if status:
            sys.exit(status)

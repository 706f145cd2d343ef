"""Alerts: one row per open problem of a tenant, opened and cleared by `services.evaluate`.

* `models`: `Alert` (the problem, its dedup key, acknowledge and snooze) and `AlertPreference`
  (which kinds a person wants by e-mail). App label ``connectors``.
* `conditions`: one function per kind that finds today's problems (`Finding`); vendor folders
  add their own (``connectors/fieldcamp/alerts.py``) through `conditions.register`.
* `services`: `evaluate(tenant)`, `evaluate_all()`, `open_alerts(tenant, user)`, acknowledge,
  snooze, preferences, and `refresh_on_commit(tenant_id)` for the events that change a condition.
* `notify`: the one e-mail sent when an alert opens.
* `tasks`: the django-q2 entry point of the ``alerts:evaluate`` schedule (`connectors.schedules`).
"""

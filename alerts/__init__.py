"""Alert stage: the daily digest (每天一报), immediate alerts and admin alerts, delivered exactly
once by email (SMTP or an outbox of ``.eml`` files) and chat webhooks.

Entry points the daemon calls (all take the application context and ``now``, tz-aware):

- ``alerts.service.send_digests(app, now, group_id=None, day=None, force=False) -> list[DeliveryResult]``
- ``alerts.service.send_immediate_alerts(app, now) -> list[DeliveryResult]``
- ``alerts.service.retry_pending(app, now) -> list[DeliveryResult]``
- ``alerts.service.send_admin_alert(app, subject, body, key, now) -> list[DeliveryResult]``
"""

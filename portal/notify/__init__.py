"""Notifications: the worker that delivers the outbox (``outbox_messages``, written by
appeals.service in the same transaction as each state change) by e-mail over SMTP and by SMS
through an HTTP gateway, and the normalising of the filer's phone number and e-mail address
at filing. The guarantees, per channel, are in docs/notifications.md."""

"""Every query of the notifications service, one module per aggregate or record kind, each
repository on ``esign.repository.Repository``: recipients (who an application is for), the
directory (institutions and their officers), deliveries (the log and the worker's queue),
certificates (and their expiry reminders), and the officers' digests."""

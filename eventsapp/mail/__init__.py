"""The outbox: mail is queued with the change that causes it and delivered by a worker."""

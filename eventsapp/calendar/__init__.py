"""Calendar text (RFC 5545): below the services, above the models.

`text` escapes, folds and writes rule-based VTIMEZONEs; `events` turns sessions into VEVENTs,
whole feeds and the invitations attached to mail. Nothing here reads or writes the database
beyond the sessions it is handed, and nothing here sends or queues anything.
"""

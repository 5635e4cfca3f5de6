"""Alerts pushed to guardians (issue 15): new unjustified absences, published marks and
enrolment decisions, read from the backend's change feed and sent through the outbox.

`consumer.py` reads the feed (one active consumer: `lease.py`), `plan.py` decides who gets
what, on which channel and when (`quiet.py`), `texts.py` says it in Arabic or French,
`preferences.py` keeps each phone's choices (STOP/START, AR/FR, channel, digest) and
`store.py` the cursor and the alerts held for the morning.
"""

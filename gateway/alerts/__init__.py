"""Alerts pushed to guardians (issues 15, 26): new unjustified absences with the child's
running total, excuses refused later, published marks, year results and enrolment decisions,
read from the backend's change feed and sent through the outbox.

`consumer.py` reads the feed (one active consumer: `gateway.state.alerts.lease`), `plan.py`
decides who gets what, on which channel and when (`quiet.py`), `texts.py` says it in Arabic or
French, `weekly.py` makes the weekly summary of the phones that chose it,
`gateway.state.alerts.preferences` keeps each phone's choices (STOP/START, AR/FR, channel,
digest) and `gateway.state.alerts.store` the cursor and the alerts held for the morning.
"""

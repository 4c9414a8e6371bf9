"""What other apps may want to know of a contract, without contracts knowing them."""

from django.dispatch import Signal

# A contract's service time or fee changed from `since` on: figures computed from them (the
# monthly availability reports) are out of date. Sent inside the transaction of the change,
# with `contract`, `since` (a date), `actor` (a user or None) and `reason` (text for the audit).
service_changed = Signal()

"""What ticket services tell apps above them without importing them."""

from django.dispatch import Signal

# Sent in the transaction of a batch change (a sweep), whose history rows were written at once
# and so sent no post_save: `changes` is a queryset of the TicketEvent rows written, in the
# history's order.
changes_written = Signal()

from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def mark_tickets_a_customer_answered(apps, schema_editor):
    """Open tickets whose last public message is not by staff: the customer wrote last."""
    Ticket = apps.get_model("tickets", "Ticket")
    Message = apps.get_model("tickets", "Message")
    last = (
        Message.objects.filter(ticket=OuterRef("pk"), internal=False)
        .order_by("-created_at", "-id")
        .annotate(by_staff=Coalesce("author__is_staff", Value(False)))
        .values("by_staff")[:1]
    )
    open_tickets = Ticket.objects.filter(status__in=["new", "in_progress", "waiting_for_customer"])
    answered = open_tickets.annotate(by_staff=Subquery(last)).filter(by_staff=False).values("pk")
    Ticket.objects.filter(pk__in=list(answered.values_list("pk", flat=True))).update(customer_answered=True)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0009_urgent_report_notification"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticket",
            name="customer_answered",
            field=models.BooleanField(db_default=False, default=False, help_text="The customer wrote last: staff have a reply to read.", verbose_name="customer answered"),
        ),
        migrations.RunPython(mark_tickets_a_customer_answered, migrations.RunPython.noop),
    ]

from django.db import migrations, models

# The close after an unanswered question wrote its message without an author, like an e-mail
# from a customer's contact person; these are its first words in each language.
CLOSING_TEXTS = ("We did not hear from you by ", "Vi fick inget svar från dig senast ")


def mark_closing_messages(apps, schema_editor):
    Message = apps.get_model("tickets", "Message")
    written = Message.objects.filter(author__isnull=True, internal=False, ticket__close_reason="no_customer_feedback")
    for prefix in CLOSING_TEXTS:
        written.filter(body__startswith=prefix).update(from_desk=True)


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0016_duplicate_of"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="from_desk",
            field=models.BooleanField(
                db_default=False, default=False, verbose_name="automatic message",
                help_text="Written by the desk itself (the close after an unanswered question), not by a person.",
            ),
        ),
        migrations.RunPython(mark_closing_messages, migrations.RunPython.noop),
    ]

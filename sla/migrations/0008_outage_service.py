from django.db import migrations, models


def place(apps, schema_editor):
    """Each service-wide outage gets the service its linked tickets show; with none linked, the
    one service of a desk whose contracts are all of one. The rest are named, to be placed by
    staff; until then they count against every service, as before."""
    Outage = apps.get_model("sla", "Outage")
    Contract = apps.get_model("contracts", "Contract")
    only = set(Contract.objects.values_list("terms__slug", flat=True).distinct())
    unplaced = []
    for outage in Outage.objects.filter(service_wide=True, service="").order_by("pk"):
        shown = set(outage.tickets.values_list("terms__slug", flat=True))
        if len(shown) == 1:
            outage.service = shown.pop()
        elif not shown and len(only) == 1:
            outage.service = next(iter(only))
        else:
            unplaced.append(outage)
            continue
        outage.save(update_fields=["service"])
    if unplaced:
        print(
            f"\n  {len(unplaced)} service-wide outage(s) could not be placed in one service; they count against "
            "every service until staff choose theirs (outage board):"
        )
        for outage in unplaced:
            print(f"    outage {outage.pk}, started {outage.started_at:%Y-%m-%d %H:%M} UTC: {outage.description[:60]!r}")


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0009_labels_without_clauses"),
        ("sla", "0007_labels_without_clauses"),
        ("tickets", "0021_labels_without_clauses"),
    ]

    operations = [
        migrations.AddField(
            model_name="outage",
            name="service",
            field=models.SlugField(blank=True, db_index=True, max_length=60, verbose_name="service"),
        ),
        migrations.RunPython(place, migrations.RunPython.noop),
    ]

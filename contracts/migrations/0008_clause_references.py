from django.db import migrations, models

# Each seed's own clause numbers (CONTRACT.md, seeds/). The Telia specification speaks of the
# numbers it covers (T §3.1), of when cases are handled (T §5.2.1) and of notice of upgrades
# (T §5.1); it is silent on the rest, and so is its table.
DSTNY = {
    "numbers_defined": "D §2",
    "fault_details": "D §16.9",
    "urgent": "D §16.8",
    "service_start": "D §16.8",
    "reply_close": "D §16.7",
    "billable_help": "D §15.3, §16.5",
    "customer_change": "D §17.1",
    "not_suppliers_fault": "D §10.4",
    "maintenance_windows": "D §11.2, §11.4",
    "planned_work_notice": "D §11.3",
    "status_page": "D §10.2",
    "discount": "D §10.3",
    "delivery_deadline": "D §8.2",
    "delivery_defects": "D §8.4",
    "delivery_deduction": "D §9.1",
    "delivery_cancel": "D §9.2",
    "delivery_not_solely": "D §9.3",
    "damages": "D §19",
    "damages_cap": "D §19.2–19.3",
    "damages_outside_cap": "D §19.4",
    "claims": "D §20",
    "claim_window": "D §20.1",
    "claim_contents": "D §20.2",
    "terms_change": "D §28",
    "price_change": "D §15.14",
    "change_termination": "D §15.14, §28",
    "notice_receipt": "D §25.2",
    "contact_person": "D §14",
}
TELIA = {
    "numbers_covered": "T §3.1",
    "service_start": "T §5.2.1",
    "planned_work_notice": "T §5.1",
}
SEEDS = {"dstny-alcom-2022": DSTNY, "telia-smart-connect": TELIA}


def fill_seed_clauses(apps, schema_editor):
    ServiceTerms = apps.get_model("contracts", "ServiceTerms")
    for slug, table in SEEDS.items():
        ServiceTerms.objects.filter(slug=slug, clauses={}).update(clauses=table)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0007_contact_phone")]

    operations = [
        migrations.AddField(
            model_name="serviceterms",
            name="clauses",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Where these terms say what the desk tells people, as the contract numbers it, e.g. {"fault_details": "D §16.9"}. A matter the terms are silent on has no entry, and nothing is cited for it.',
                verbose_name="clause references",
            ),
        ),
        migrations.RunPython(fill_seed_clauses, migrations.RunPython.noop),
    ]

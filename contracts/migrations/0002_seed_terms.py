"""The two seed contracts' terms (CONTRACT.md). Where a seed says nothing about a term, the
value is null: no such promise."""

from decimal import Decimal

from django.db import migrations

DSTNY = {
    "slug": "dstny-alcom-2022",
    "version": 1,
    "name": "Dstny – Ålands Telekommunikation, allmänna villkor 2022-12-16",
    "source": "Ålands Telekommunikation Ab: Allmänna villkor för kommunikationstjänsten Dstny "
    "(2022-12-16), finsk lag.",
    "ticket_prefix": "DST",
    "currency": "EUR",
    "timezone": "Europe/Mariehamn",
    "holiday_country": "FI",
    "holiday_subdivision": "01",  # Åland: adds Självstyrelsedagen 9 June
    "holiday_categories": ["public"],
    "support_days": "holiday_free_weekdays",  # D §16.3, §16.8
    "support_opens": 8 * 60 + 30,
    "support_closes": 17 * 60,
    "service_start_hours": 4,  # D §16.8
    "customer_reply_hours": 48,  # D §16.7
    "a_number_countries": ["AX", "FI"],
    "availability_target": Decimal("99.8"),  # D §10.1
    "availability_period": "fixed_30_days",  # D §10.1: 24 h × 30 days
    "discount_ladder": [  # D §10.3
        {"below": "99.8", "percent": "5"},
        {"below": "99.7", "percent": "10"},
        {"below": "99.6", "percent": "15"},
        {"below": "99.5", "percent": "20"},
        {"below": "99.4", "percent": "25"},
    ],
    "maintenance_windows": [  # D §11.2: weekdays 20:00–05:00, all of Saturday and Sunday
        {"weekdays": [1, 2, 3, 4, 5], "start": "00:00", "end": "05:00"},
        {"weekdays": [1, 2, 3, 4, 5], "start": "20:00", "end": "24:00"},
        {"weekdays": [6, 7], "start": "00:00", "end": "24:00"},
    ],
    "planned_work_notice_days": 14,  # D §11.3: two weeks
    "delivery_deadline_days": 90,  # D §8.2
    "normal_delivery_weeks": 7,  # D §8.2
    "late_delivery_discount_percent": Decimal("50"),  # D §9.1
    "delivery_cancellation_days": 120,  # D §9.2
    "delivery_defect_report_days": 10,  # D §8.4
    "claim_window_months": 1,  # D §20.1
    "liability_cap_percent": Decimal("25"),  # D §19.2
    "liability_cap_basis_months": 12,  # D §19.2
    "invoice_period": "monthly",  # D §15.2
    "invoiced_in_advance": True,  # D §15.2
    "invoice_due_days": 14,  # D §15.11
    "invoice_objection_days": 8,  # D §15.13
    "licence_change_notice_months": 6,  # D §7.5
    "price_change_notice_days": 30,  # D §15.14
    "terms_change_notice_months": 1,  # D §28
    "change_termination_window_days": 14,  # D §15.14, §28: two weeks
    "force_majeure_termination_months": 3,  # D §22.2
    "termination_notice_months": 6,  # D §23.1
    "notice_receipt_days_letter": 5,  # D §25.2
    "notice_receipt_days_email": 3,  # D §25.2
    "notice_receipt_days_phone": 0,  # D §25.2: at once
}

TELIA = {
    "slug": "telia-smart-connect",
    "version": 1,
    "name": "Telia Smart Connect – tjänstespecifikation",
    "source": "Telia Sverige AB: Tjänstespecifikation Telia Smart Connect.",
    "ticket_prefix": "TSC",
    "currency": "SEK",
    "timezone": "Europe/Stockholm",
    "holiday_country": "SE",
    "holiday_subdivision": None,
    # The söndagsregeln eves (Midsommarafton, Julafton, Nyårsafton) are days off: de facto holidays.
    "holiday_categories": ["public", "de_facto"],
    "support_days": "all_days",  # T §2.4: 7 days a week, 24 hours a day
    "support_opens": 0,
    "support_closes": 24 * 60,
    "service_start_hours": None,
    "customer_reply_hours": None,
    "a_number_countries": ["SE"],  # T §3.1
    "availability_target": None,
    "availability_period": None,
    "discount_ladder": [],
    "maintenance_windows": None,
    "planned_work_notice_working_days": 10,  # T §5.1
    "invoice_period": "quarterly",  # T §7.2.1
    "invoice_due_days": 30,  # T §7.2.2
}


def create_seed_terms(apps, schema_editor):
    ServiceTerms = apps.get_model("contracts", "ServiceTerms")
    for values in (DSTNY, TELIA):
        if not ServiceTerms.objects.filter(slug=values["slug"]).exists():
            ServiceTerms.objects.create(**values)


class Migration(migrations.Migration):
    dependencies = [("contracts", "0001_initial")]

    operations = [migrations.RunPython(create_seed_terms, migrations.RunPython.noop)]

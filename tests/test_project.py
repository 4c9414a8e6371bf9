"""The promises around the code: settings from the environment, the schema, the admin."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts.models import ServiceTerms

ROOT = Path(__file__).resolve().parent.parent


def run_django(env_overrides: dict[str, str], code: str = "import django; django.setup()"):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DATABASE_URL", "SITE_URL"}}
    if env_overrides.get("DEBUG") != "true":
        env["SITE_URL"] = "https://desk.example.com"  # production needs it; development follows HOST and PORT
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django({"DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_a_bad_debug_value_is_refused_loudly():
    result = run_django({"DEBUG": "perhaps", "SECRET_KEY": "x"})
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_development_defaults_to_sqlite_under_var():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['ENGINE'], settings.DATABASES['default']['NAME'])"
    )
    result = run_django({"DEBUG": "true"}, code)
    assert result.returncode == 0, result.stderr
    engine, name = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert name == str(ROOT / "var" / "servicedesk.sqlite3")


def test_database_url_selects_postgresql():
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; print(d['ENGINE'], d['HOST'], d['NAME'], d['OPTIONS'])"
    )
    result = run_django({"SECRET_KEY": "x", "DATABASE_URL": "postgres://u@db.internal:5432/desk"}, code)
    assert result.returncode == 0, result.stderr
    # Django's PostgreSQL backend, waiting for an answer at most so long (config/postgresql).
    assert result.stdout.strip().split(maxsplit=3) == [
        "config.postgresql",
        "db.internal",
        "desk",
        "{'connect_timeout': 5}",
    ]


def test_links_in_e_mail_follow_the_address_make_run_serves():
    code = "import django; django.setup(); from django.conf import settings; print(settings.SITE_URL)"
    served = run_django({"DEBUG": "true", "HOST": "127.0.0.2", "PORT": "8123"}, code)
    assert served.stdout.strip() == "http://127.0.0.2:8123", served.stderr
    assert run_django({"DEBUG": "true"}, code).stdout.strip() == "http://127.0.0.1:8000"
    chosen = run_django({"DEBUG": "true", "PORT": "8123", "SITE_URL": "https://desk.example/"}, code)
    assert chosen.stdout.strip() == "https://desk.example"
    # Production never guesses from the development server's address: it must be told.
    production = run_django({"SECRET_KEY": "x", "HOST": "0.0.0.0", "PORT": "8123", "SITE_URL": ""}, code)
    assert production.returncode != 0 and "SITE_URL is not set" in production.stderr
    told = run_django({"SECRET_KEY": "x", "SITE_URL": "https://desk.example.com"}, code)
    assert told.stdout.strip() == "https://desk.example.com", told.stderr
    wrong = run_django({"SECRET_KEY": "x", "SITE_URL": "desk.example.com"}, code)
    assert wrong.returncode != 0 and "SITE_URL must be the desk's address" in wrong.stderr


def test_the_celery_app_is_named_config():
    result = run_django({"DEBUG": "true"}, "from config.celery import app; print(app.main, app.conf.broker_url)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "config"


@pytest.mark.django_db
def test_the_openapi_schema_documents_the_api(staff_api):
    response = staff_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/terms/",
        "/api/terms/{slug_or_id}/",
        "/api/customers/",
        "/api/customers/{id}/users/",
        "/api/contracts/",
        "/api/contracts/{id}/",
    ):
        assert path in paths, path
    assert staff_api.get("/api/docs/").status_code == 200


def test_the_schema_generates_without_warnings(tmp_path):
    result = run_django(
        {"DEBUG": "true"},
        "import django, sys; django.setup(); from django.core.management import call_command; "
        f"call_command('spectacular', '--validate', '--fail-on-warn', '--file', r'{tmp_path / 's.yaml'}')",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/contracts/serviceterms/",
        "/admin/contracts/customer/",
        "/admin/contracts/contract/",
        "/admin/contracts/customermembership/",
        "/admin/contracts/contract/?status=active",
        "/admin/contracts/serviceterms/?q=dstny",
    ],
)
def test_admin_lists_open_for_staff(admin_client, contract_a, url):
    assert admin_client.get(url).status_code == 200


@pytest.mark.django_db
def test_editing_terms_in_use_in_the_admin_saves_a_new_version(admin_client, contract_a, dstny):
    url = f"/admin/contracts/serviceterms/{dstny.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if hasattr(field, "prepare_value"):
            value = field.prepare_value(value)
        if value is None:
            value = ""
        data[name] = value
    for name in ("holiday_categories", "a_number_countries", "discount_ladder", "maintenance_windows"):
        data[name] = form.fields[name].prepare_value(getattr(dstny, name))
    data["invoiced_in_advance"] = "true"
    data["service_start_hours"] = 3
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert ServiceTerms.objects.get(pk=dstny.pk).service_start_hours == 4
    assert ServiceTerms.objects.get(slug="dstny-alcom-2022", version=2).service_start_hours == 3


@pytest.mark.django_db
def test_pages_speak_swedish_by_default_and_english_on_request(client, customer_a_user):
    client.force_login(customer_a_user)
    page = client.get("/portal/").content.decode()
    assert '<html lang="sv">' in page and "Dina ärenden" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = client.get("/portal/").content.decode()
    assert '<html lang="en">' in page and "Your tickets" in page


@pytest.mark.django_db
def test_the_home_page_asks_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_the_compiled_translations_are_those_of_the_po_file(language, tmp_path):
    """The .mo file that Django reads says what the .po file says: a sentence translated in the
    .po but not compiled would reach customers in English."""
    import gettext

    folder = ROOT / "locale" / language / "LC_MESSAGES"
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", compiled, folder / "django.po"], check=True)
    with open(folder / "django.mo", "rb") as kept, open(compiled, "rb") as fresh:
        kept_catalog = gettext.GNUTranslations(kept)._catalog  # type: ignore[attr-defined]
        fresh_catalog = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
    missing = sorted(str(k) for k in fresh_catalog.keys() - kept_catalog.keys())
    changed = sorted(str(k) for k in fresh_catalog.keys() & kept_catalog.keys() if fresh_catalog[k] != kept_catalog[k])
    assert not missing and not changed, f"run `make messages`: not compiled {missing[:5]}, changed {changed[:5]}"

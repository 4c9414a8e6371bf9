"""A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`) on loopback, its webhook
receiver pointed at a live desk: an alert posted to Alertmanager's own API drafts an outage, and
its resolution ends it."""

import datetime
import json
import os
import shutil
import subprocess
import time
import urllib.request

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token

from sla.models import Outage
from tests.ports import free_port

ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
if ALERTMANAGER is None:
    if os.environ.get("REQUIRE_ALERTMANAGER"):
        raise RuntimeError("REQUIRE_ALERTMANAGER is set but prometheus-alertmanager is missing")
    pytest.skip("prometheus-alertmanager is not installed", allow_module_level=True)

pytestmark = pytest.mark.django_db(transaction=True)

CONFIG = """
route:
  receiver: desk
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: desk
    webhook_configs:
      - url: {url}/api/monitoring/alertmanager/
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {key}
"""


def wait_for(check, what: str, seconds: float = 30.0):
    """Poll until `check()` gives something, the way an operator watches a page."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def alertmanager(seeded, live_server, tmp_path, django_user_model):
    user = django_user_model.objects.create_user("alertmanager")
    user.user_permissions.add(Permission.objects.get(codename="report_alerts"))
    key = Token.objects.create(user=user).key
    (tmp_path / "alertmanager.yml").write_text(CONFIG.format(url=live_server.url, key=key))
    port = free_port()
    process = subprocess.Popen(
        [
            ALERTMANAGER,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"

    def ready():
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=1) as answer:
                return answer.status == 200
        except OSError:
            return process.poll() is not None and pytest.fail(process.stderr.read().decode())

    try:
        wait_for(ready, "Alertmanager to start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def post_alert(base: str, **times: datetime.datetime):
    alert = {
        "labels": {"alertname": "SbcDown", "service": "dstny-alcom-2022", "severity": "critical"},
        "annotations": {"summary": "SBC cluster 2 answers no SIP OPTIONS"},
        **{name: moment.isoformat() for name, moment in times.items()},
    }
    request = urllib.request.Request(
        f"{base}/api/v2/alerts",
        data=json.dumps([alert]).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        assert answer.status == 200


def test_an_alert_through_a_real_alertmanager_drafts_an_outage_and_its_resolution_ends_it(alertmanager, contract_a):
    started = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(minutes=2)
    post_alert(alertmanager, startsAt=started)
    outage = wait_for(lambda: Outage.objects.filter(source="alertmanager").first(), "the drafted outage")
    assert (outage.started_at, outage.service, outage.confirmed, outage.ended_at) == (
        started,
        "dstny-alcom-2022",
        False,
        None,
    )
    assert "SBC cluster 2 answers no SIP OPTIONS" in outage.description
    ended = datetime.datetime.now(datetime.UTC).replace(microsecond=0) - datetime.timedelta(seconds=5)
    post_alert(alertmanager, startsAt=started, endsAt=ended)
    wait_for(lambda: Outage.objects.filter(pk=outage.pk, ended_at__isnull=False).exists(), "the outage to end")
    outage.refresh_from_db()
    assert outage.ended_at == ended and Outage.objects.count() == 1


def test_the_nagios_script_reports_a_problem_and_its_recovery_as_one_outage(
    seeded, live_server, tmp_path, django_user_model, contract_a
):
    import sys
    from pathlib import Path

    user = django_user_model.objects.create_user("nagios")
    user.user_permissions.add(Permission.objects.get(codename="report_alerts"))
    (tmp_path / "token").write_text(Token.objects.create(user=user).key + "\n")
    script = Path(__file__).resolve().parent.parent / "scripts" / "notify-desk"

    def notify(*arguments: str) -> subprocess.CompletedProcess:
        common = ["--url", live_server.url, "--token-file", str(tmp_path / "token"), "--service", "dstny-alcom-2022"]
        return subprocess.run([sys.executable, script, *common, *arguments], capture_output=True, text=True)

    went_down = int(datetime.datetime.now(datetime.UTC).timestamp()) - 600
    problem = notify(
        "--id", "4711", "--last-id", "4702", "--state", "CRITICAL", "--at", str(went_down), "--summary", "sbc-2 SIP"
    )
    assert problem.returncode == 0, problem.stderr
    outage = Outage.objects.get(external_id="nagios-4711")
    assert outage.ended_at is None and outage.source == "generic" and outage.description == "sbc-2 SIP"
    recovered = notify("--id", "0", "--last-id", "4711", "--state", "OK", "--at", str(went_down + 300))
    assert recovered.returncode == 0, recovered.stderr
    outage.refresh_from_db()
    assert outage.ended_at == datetime.datetime.fromtimestamp(went_down + 300, datetime.UTC)
    (tmp_path / "token").write_text("wrong")
    refused = notify("--id", "4712", "--state", "CRITICAL", "--at", str(went_down))
    assert refused.returncode == 1 and "401" in refused.stderr

"""A real IMAP server for the tests: Debian's Dovecot on loopback with a self-signed certificate
and one mailbox user, in a directory of its own. Started once per test session."""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port
from tickets.mailbox import quote

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "desk", "desk-imap-pass"

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = servicedesk-test-{port}
protocols = imap
listen = 127.0.0.1
log_path = {root}/dovecot.log
ssl = required
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = yes
auth_mechanisms = plain
default_login_user = {login_user}
default_internal_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/passwd
}}
mail_location = maildir:~/Maildir
first_valid_uid = {uid}
last_valid_uid = {uid}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {starttls_port}
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class ImapServer:
    root: Path
    port: int
    starttls_port: int
    process_config: Path

    @property
    def ca_file(self) -> str:
        return str(self.root / "cert.pem")

    def client(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=self.ca_file)
        connection = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=context, timeout=10)
        connection.login(USER, PASSWORD)
        return connection

    def deliver(self, raw: bytes, *, mailbox: str = "INBOX", arrived=None) -> None:
        """Put a message in a mailbox as the mail server would, arriving at `arrived`."""
        connection = self.client()
        try:
            date = imaplib.Time2Internaldate(arrived) if arrived is not None else None
            status, data = connection.append(quote(mailbox), None, date, raw)
            assert status == "OK", data
        finally:
            connection.logout()

    def messages(self, mailbox: str = "INBOX") -> list[tuple[set[str], bytes]]:
        """(flags, message) of every message in a mailbox, oldest first."""
        connection = self.client()
        try:
            status, _data = connection.select(quote(mailbox), readonly=True)
            if status != "OK":
                return []
            found = []
            _status, data = connection.uid("SEARCH", None, "ALL")
            for uid in data[0].split():
                _status, fetched = connection.uid("FETCH", uid, "(FLAGS BODY.PEEK[])")
                envelope, raw = fetched[0]
                flags = envelope.split(b"FLAGS (", 1)[1].split(b")", 1)[0].decode().split()
                found.append((set(flags) - {r"\Recent"}, raw))
            return found
        finally:
            connection.logout()

    def empty(self) -> None:
        """Remove every message and every mailbox but the inbox."""
        connection = self.client()
        try:
            _status, listed = connection.list()
            for line in listed or []:
                name = line.decode().rsplit(' "', 1)[-1].rstrip('"')
                if name.upper() != "INBOX":
                    connection.delete(f'"{name}"')
            connection.select("INBOX")
            connection.uid("STORE", "1:*", "+FLAGS.SILENT", r"(\Deleted)")
            connection.expunge()
        finally:
            connection.logout()


def start(root: Path) -> ImapServer:
    """Configure and start Dovecot under `root`; mail belongs to the `mail` user when run as
    root (Dovecot never gives mail to uid 0), else to the user running the tests."""
    if os.geteuid() == 0:
        owner = pwd.getpwnam("mail")
        login_user, internal_user = "dovenull", "dovecot"
    else:
        owner = pwd.getpwuid(os.geteuid())
        login_user = internal_user = owner.pw_name
    root.chmod(0o755)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(root / "key.pem"),
            "-out",
            str(root / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    home = root / "mail" / USER
    home.mkdir(parents=True)
    for path in (root / "mail", home):
        os.chown(path, owner.pw_uid, owner.pw_gid)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}:{owner.pw_uid}:{owner.pw_gid}::{home}\n")
    port, starttls_port = free_port(), free_port()
    config = root / "dovecot.conf"
    config.write_text(
        CONFIG.format(
            root=root,
            port=port,
            starttls_port=starttls_port,
            uid=owner.pw_uid,
            login_user=login_user,
            internal_user=internal_user,
        )
    )
    # Dovecot forks into the background and keeps its standard streams: a file, not a pipe.
    with open(root / "start.log", "wb") as output:
        subprocess.run([DOVECOT, "-c", str(config)], check=True, stdout=output, stderr=output)
    server = ImapServer(root=root, port=port, starttls_port=starttls_port, process_config=config)
    deadline = time.monotonic() + 15
    while True:
        try:
            server.client().logout()
            return server
        except (OSError, imaplib.IMAP4.error):
            if time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                stop(server)
                raise RuntimeError(f"Dovecot did not answer on port {port}:\n{log}") from None
            time.sleep(0.1)


def stop(server: ImapServer) -> None:
    subprocess.run(
        [DOVECOT, "-c", str(server.process_config), "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@contextlib.contextmanager
def running():
    root = Path(tempfile.mkdtemp(prefix="servicedesk-imap-"))
    server = start(root)
    try:
        yield server
    finally:
        stop(server)
        shutil.rmtree(root, ignore_errors=True)

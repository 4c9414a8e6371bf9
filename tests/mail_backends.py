"""A mail backend for tests whose server refuses every message, as a broken SMTP server would."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class TransactionWitnessBackend(BaseEmailBackend):
    """Keeps each message with whether a database transaction (and so a row lock) was open
    while the mail server was spoken to."""

    sent: list = []

    def send_messages(self, email_messages):
        from django.db import connection

        for message in email_messages:
            TransactionWitnessBackend.sent.append((message, connection.in_atomic_block))
        return len(email_messages)

"""The search box's indexes on PostgreSQL (tickets/search.py); nothing on SQLite, which searches
with plain LIKE.

Words are read with the text search configuration `tickets_search`: PostgreSQL's Swedish one
(stemming, Swedish stop words) with accents taken off first (`unaccent`), so "oresund" finds
"Öresund" and "samtalen" finds "samtal". The words of each description and message are kept
in a generated column `search_words` (PostgreSQL only, unknown to the models): reading them
costs nothing where computing them again costs microseconds a row, which PostgreSQL's planner
does not expect, so it walked tens of thousands of rows for a fairly common word. Parts of
numbers and of e-mail addresses are found with trigram indexes (`pg_trgm`). `search_fold()` is `lower(unaccent())` declared IMMUTABLE, as an
expression index requires (unaccent() itself is only STABLE: its dictionary could change).
Adding the columns rewrites the tickets and messages tables, and building the indexes locks
writes to them: some tens of seconds per million tickets.
"""

from django.db import migrations

FORWARD = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE OR REPLACE FUNCTION search_fold(text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1)) $$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'tickets_search') THEN
        CREATE TEXT SEARCH CONFIGURATION tickets_search (COPY = pg_catalog.swedish);
        ALTER TEXT SEARCH CONFIGURATION tickets_search
            ALTER MAPPING FOR hword, hword_part, word WITH public.unaccent, swedish_stem;
    END IF;
END $$;
ALTER TABLE tickets_ticket ADD COLUMN IF NOT EXISTS search_words tsvector
    GENERATED ALWAYS AS (to_tsvector('tickets_search'::regconfig, description)) STORED;
ALTER TABLE tickets_message ADD COLUMN IF NOT EXISTS search_words tsvector
    GENERATED ALWAYS AS (to_tsvector('tickets_search'::regconfig, body)) STORED;
CREATE INDEX IF NOT EXISTS ticket_words_idx ON tickets_ticket USING gin (search_words);
CREATE INDEX IF NOT EXISTS message_words_idx ON tickets_message USING gin (search_words);
CREATE INDEX IF NOT EXISTS ticket_number_trgm_idx ON tickets_ticket USING gin (number gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ticket_a_number_trgm_idx ON tickets_ticket USING gin (a_number gin_trgm_ops);
CREATE INDEX IF NOT EXISTS ticket_b_number_trgm_idx ON tickets_ticket USING gin (b_number gin_trgm_ops);
CREATE INDEX IF NOT EXISTS inbound_sender_trgm_idx ON tickets_inboundemail
    USING gin (search_fold(sender) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS customer_name_trgm_idx ON contracts_customer
    USING gin (search_fold(name) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS contact_name_trgm_idx ON contracts_contactperson
    USING gin (search_fold(name) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS contact_email_trgm_idx ON contracts_contactperson
    USING gin (search_fold(email) gin_trgm_ops);
-- The open tickets newest first: a search within the queue's default filter reads its
-- candidates here instead of from every open ticket's row.
CREATE INDEX IF NOT EXISTS ticket_open_received_idx ON tickets_ticket (received_at DESC, id DESC)
    WHERE status IN ('new', 'in_progress', 'waiting_for_customer');
"""

BACKWARD = """
DROP INDEX IF EXISTS ticket_open_received_idx;
DROP INDEX IF EXISTS contact_email_trgm_idx;
DROP INDEX IF EXISTS contact_name_trgm_idx;
DROP INDEX IF EXISTS customer_name_trgm_idx;
DROP INDEX IF EXISTS inbound_sender_trgm_idx;
DROP INDEX IF EXISTS ticket_b_number_trgm_idx;
DROP INDEX IF EXISTS ticket_a_number_trgm_idx;
DROP INDEX IF EXISTS ticket_number_trgm_idx;
ALTER TABLE tickets_message DROP COLUMN IF EXISTS search_words;
ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_words;
DROP TEXT SEARCH CONFIGURATION IF EXISTS tickets_search;
DROP FUNCTION IF EXISTS search_fold(text);
"""


def on_postgresql(sql: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ("contracts", "0004_notice_applies_from_and_contract_updates"),
        ("tickets", "0013_saved_views"),
    ]

    operations = [
        migrations.RunPython(on_postgresql(FORWARD), on_postgresql(BACKWARD)),
    ]

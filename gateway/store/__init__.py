"""The durable store: cases, events, raw messages, the outbox, idempotency keys and the audit chain.

One schema, two backends (SQLite embedded, PostgreSQL scaled out), chosen by the database URL.
"""

"""Schema migrations for the local SQLite database, applied in order.

Never edit a published migration: append a new one.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the five stores of the local backend.
    """
    CREATE TABLE images (
        key TEXT PRIMARY KEY,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        uploaded_at TEXT NOT NULL,
        predicted_label TEXT,
        confidence REAL,
        model_version TEXT,
        label TEXT,
        labeled_at TEXT,
        labeled_by TEXT
    );
    CREATE INDEX images_newest ON images (uploaded_at DESC, key DESC);
    CREATE INDEX images_by_prediction ON images (predicted_label, uploaded_at DESC, key DESC);
    CREATE INDEX images_uncertain ON images (confidence, key)
        WHERE label IS NULL AND predicted_label IS NOT NULL;
    CREATE INDEX images_pending ON images (uploaded_at, key) WHERE predicted_label IS NULL;
    CREATE INDEX images_labeled_at ON images (labeled_at) WHERE label IS NOT NULL;
    CREATE INDEX images_sha256 ON images (sha256);
    CREATE TABLE label_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        key TEXT NOT NULL REFERENCES images (key),
        old_label TEXT,
        new_label TEXT NOT NULL,
        changed_by TEXT NOT NULL,
        changed_at TEXT NOT NULL
    );
    CREATE INDEX label_changes_by_key ON label_changes (key, id);
    CREATE TABLE manager_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        body TEXT NOT NULL
    );
    CREATE TABLE training_runs (
        run_id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        active INTEGER,
        body TEXT NOT NULL
    );
    CREATE UNIQUE INDEX training_runs_one_active ON training_runs (active) WHERE active = 1;
    CREATE INDEX training_runs_newest ON training_runs (created_at DESC, run_id DESC);
    CREATE TABLE model_versions (
        version TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE champion (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version TEXT NOT NULL
    );
    CREATE TABLE champion_changes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        body TEXT NOT NULL
    )
    """,
    # 2: local manager accounts and failed logins (web app auth).
    """
    CREATE TABLE manager_accounts (
        username TEXT PRIMARY KEY,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL,
        address TEXT NOT NULL,
        failed_at TEXT NOT NULL
    );
    CREATE INDEX login_failures_by_user ON login_failures (username, address, failed_at)
    """,
    # 3: API tokens and sessions carry the account's token version; signing out and
    # changing the password bump it, which revokes every token and session issued before.
    """
    ALTER TABLE manager_accounts ADD COLUMN token_version INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX login_failures_by_account ON login_failures (username, failed_at)
    """,
    # 4: limits on anonymous traffic (token buckets, stored bytes per address and day).
    """
    CREATE TABLE rate_buckets (
        key TEXT PRIMARY KEY,
        tokens REAL NOT NULL,
        updated REAL NOT NULL
    );
    CREATE TABLE stored_bytes (
        address TEXT NOT NULL,
        day TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        PRIMARY KEY (address, day)
    )
    """,
    # 5: the manager's catalog views (catdog.catalog_views): one index each, so a page
    # of any view reads only its own rows.
    """
    CREATE INDEX images_labeled_newest ON images (uploaded_at DESC, key DESC)
        WHERE label IS NOT NULL;
    CREATE INDEX images_unlabeled_newest ON images (uploaded_at DESC, key DESC)
        WHERE label IS NULL;
    CREATE INDEX images_disagreement_newest ON images (uploaded_at DESC, key DESC)
        WHERE label IS NOT NULL AND predicted_label IS NOT NULL AND label <> predicted_label;
    CREATE INDEX images_by_confidence ON images (confidence, key)
        WHERE predicted_label IS NOT NULL
    """,
    # 6: alerts for managers (catdog.alerts); open ones have their own index.
    """
    CREATE TABLE alerts (
        alert_id TEXT PRIMARY KEY,
        raised_at TEXT NOT NULL,
        open INTEGER,
        body TEXT NOT NULL
    );
    CREATE INDEX alerts_open_newest ON alerts (raised_at DESC, alert_id DESC) WHERE open = 1
    """,
]

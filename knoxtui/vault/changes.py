"""What changed since: a digest of each item's content (secret, route), stored when the item is
written, and the items changed after a moment. The seam team sync (issue 13) compares against
what it saw at its last push or pull, without decrypting every value each time."""

from __future__ import annotations

# Appended to schema.MIGRATIONS as one step: the digest of each item's content, kept up to date
# by every write (NULL until then: filled once when an older vault is opened).
MIGRATION = [
    "ALTER TABLE secrets ADD COLUMN digest TEXT",
    "ALTER TABLE routes ADD COLUMN digest TEXT",
]
# A second step: the digests are keyed (HMAC-SHA256) with a random key of this vault, so a digest
# read through `audit --sql` (or a sync mark) cannot be used to guess a short string value. The
# key sits in a *_blobs table, which `audit --sql` cannot read.
KEY_MIGRATION = [
    """CREATE TABLE digest_key_blobs (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key BLOB NOT NULL
    )""",
]

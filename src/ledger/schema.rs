//! The ledger's schema, as forward migrations. `PRAGMA user_version` is the number of
//! migrations applied; a database made by a newer release (a higher number) is refused,
//! never downgraded.

/// Each step, in order. Never edit one that has shipped: add the next.
pub const MIGRATIONS: &[&str] = &[
    // 1: runs, what each planned and wrote, and what it created or renamed.
    "CREATE TABLE runs (
        id                INTEGER PRIMARY KEY,
        started_at        INTEGER NOT NULL,
        ended_at          INTEGER,
        tool_version      TEXT NOT NULL,
        verb              TEXT NOT NULL,
        source            TEXT NOT NULL,
        dry_run           INTEGER NOT NULL,
        integration       TEXT NOT NULL,
        organization_id   TEXT,
        organization_name TEXT,
        status            TEXT NOT NULL,
        exit_code         INTEGER,
        error             TEXT,
        requests_psa      INTEGER,
        requests_gradient INTEGER
    );
    CREATE INDEX runs_by_integration ON runs (integration, source, status, id);
    CREATE TABLE pairs (
        run_id       INTEGER NOT NULL REFERENCES runs (id),
        account_id   TEXT NOT NULL,
        account_name TEXT NOT NULL,
        service      TEXT NOT NULL,
        count        INTEGER NOT NULL,
        result       TEXT NOT NULL,
        message      TEXT,
        PRIMARY KEY (run_id, account_id, service)
    );
    CREATE TABLE changes (
        run_id  INTEGER NOT NULL REFERENCES runs (id),
        kind    TEXT NOT NULL,
        id      TEXT NOT NULL,
        name    TEXT NOT NULL,
        before  TEXT
    );",
    // 2: which source writes to each integration.
    "CREATE TABLE bindings (
        integration       TEXT PRIMARY KEY,
        source            TEXT NOT NULL,
        bound_at          INTEGER NOT NULL,
        organization_name TEXT
    );",
    // 3: each `engagement` run's scores, per ConnectWise site and window length.
    "CREATE TABLE engagement_snapshots (
        id       INTEGER PRIMARY KEY,
        site     TEXT NOT NULL,
        days     INTEGER NOT NULL,
        taken_at INTEGER NOT NULL,
        scores   TEXT NOT NULL
    );
    CREATE INDEX engagement_by_window ON engagement_snapshots (site, days, id);",
    // 4: the ConnectWise callbacks `callbacks register` created, so `callbacks remove`
    // without --url removes those (docs/contract.md §6). `site` is the API host and company.
    "CREATE TABLE callbacks (
        site          TEXT NOT NULL,
        callback_id   INTEGER NOT NULL,
        url           TEXT NOT NULL,
        type          TEXT NOT NULL,
        registered_at INTEGER NOT NULL,
        PRIMARY KEY (site, callback_id)
    );",
];

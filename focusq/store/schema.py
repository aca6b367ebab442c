"""The schema as a numbered list of migrations, applied forward on open.

``PRAGMA user_version`` holds how many have been applied; ``PRAGMA application_id``
marks the file as focusq's, so a foreign SQLite file is refused, never altered.
"""

from __future__ import annotations

APPLICATION_ID = 0x46513031  # "FQ01"

OPEN_STATUSES_SQL = "('held', 'paused', 'queued', 'running', 'waiting')"
"""The open states as SQL, exactly as the partial index ``tasks_open_in_order`` spells them."""

MIGRATIONS: tuple[str, ...] = (
    # 1: tasks, their dependencies, runs and the event log.
    """
    CREATE TABLE tasks (
        id          INTEGER PRIMARY KEY,
        title       TEXT NOT NULL CHECK (title <> ''),
        kind        TEXT NOT NULL CHECK (kind IN ('mechanical', 'creative')),
        status      TEXT NOT NULL DEFAULT 'queued',
        priority    TEXT NOT NULL DEFAULT 'M' CHECK (priority IN ('H', 'M', 'L')),
        prio_rank   INTEGER GENERATED ALWAYS AS
                        (CASE priority WHEN 'H' THEN 2 WHEN 'M' THEN 1 ELSE 0 END) VIRTUAL,
        tags        TEXT NOT NULL DEFAULT '[]',
        project     TEXT,
        command     TEXT,
        cwd         TEXT,
        env         TEXT NOT NULL DEFAULT '{}',
        locks       TEXT NOT NULL DEFAULT '[]',
        estimate    REAL,
        timeout     REAL,
        retries     INTEGER NOT NULL DEFAULT 0,
        grp         TEXT,
        gate        TEXT,
        not_before  REAL,
        note        TEXT NOT NULL DEFAULT '',
        attempts    INTEGER NOT NULL DEFAULT 0,
        result      TEXT,
        exit_code   INTEGER,
        reason      TEXT,
        created_at  REAL NOT NULL,
        updated_at  REAL NOT NULL,
        started_at  REAL,
        ended_at    REAL
    );
    CREATE INDEX tasks_by_status ON tasks (status, prio_rank DESC, id);
    CREATE INDEX tasks_by_end ON tasks (ended_at) WHERE ended_at IS NOT NULL;

    CREATE TABLE deps (
        task_id INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
        dep_id  INTEGER NOT NULL REFERENCES tasks (id),
        kind    TEXT NOT NULL CHECK (kind IN ('after', 'afterany')),
        PRIMARY KEY (task_id, dep_id)
    ) WITHOUT ROWID;
    CREATE INDEX deps_by_dep ON deps (dep_id);

    CREATE TABLE runs (
        id          INTEGER PRIMARY KEY,
        task_id     INTEGER NOT NULL REFERENCES tasks (id),
        attempt     INTEGER NOT NULL,
        pid         INTEGER,
        pgid        INTEGER,
        started_at  REAL NOT NULL,
        ended_at    REAL,
        exit_code   INTEGER,
        signal      INTEGER,
        result      TEXT,
        log_path    TEXT,
        tail        TEXT,
        UNIQUE (task_id, attempt)
    );
    CREATE INDEX runs_unfinished ON runs (task_id) WHERE ended_at IS NULL;

    CREATE TABLE events (
        id       INTEGER PRIMARY KEY,
        at       REAL NOT NULL,
        task_id  INTEGER REFERENCES tasks (id),
        kind     TEXT NOT NULL,
        payload  TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX events_by_time ON events (at);
    CREATE INDEX events_by_task ON events (task_id, id);
    """,
    # 2: the worker's lease; intents a client leaves for the worker (cancel, pause, resume);
    # budget_from: the attempt count when the user last retried by hand (retries count from it).
    """
    CREATE TABLE lease (
        name        TEXT PRIMARY KEY,
        pid         INTEGER NOT NULL,
        host        TEXT NOT NULL,
        boot_id     TEXT NOT NULL,
        proc_start  REAL,
        started_at  REAL NOT NULL,
        heartbeat   REAL NOT NULL
    );
    ALTER TABLE tasks ADD COLUMN intent TEXT;
    ALTER TABLE tasks ADD COLUMN budget_from INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX tasks_with_intent ON tasks (id) WHERE intent IS NOT NULL;
    CREATE INDEX tasks_by_status_kind ON tasks (status, kind);
    CREATE INDEX tasks_by_command ON tasks (command, cwd) WHERE command IS NOT NULL;
    CREATE INDEX tasks_open_in_order ON tasks (prio_rank DESC, id)
        WHERE status IN """
    + OPEN_STATUSES_SQL
    + """;
    """,
    # 3: the focus slot and the interruption inbox.
    """
    CREATE TABLE focus_sessions (
        id              INTEGER PRIMARY KEY,
        task_id         INTEGER NOT NULL REFERENCES tasks (id),
        started_at      REAL NOT NULL,
        ended_at        REAL,
        paused_at       REAL,
        paused_seconds  REAL NOT NULL DEFAULT 0,
        planned_minutes INTEGER NOT NULL,
        outcome         TEXT
    );
    CREATE UNIQUE INDEX focus_one_open ON focus_sessions ((1)) WHERE ended_at IS NULL;
    CREATE INDEX focus_by_start ON focus_sessions (started_at);

    CREATE TABLE interruptions (
        id            INTEGER PRIMARY KEY,
        at            REAL NOT NULL,
        source        TEXT NOT NULL,
        task_id       INTEGER REFERENCES tasks (id),
        text          TEXT NOT NULL CHECK (text <> ''),
        urgent        INTEGER NOT NULL DEFAULT 0,
        delivered_at  REAL,
        batch         INTEGER,
        dismissed_at  REAL
    );
    CREATE INDEX interruptions_held ON interruptions (at) WHERE delivered_at IS NULL;
    """,
    # 4: the review: runs and focus sessions found by when they ended (what was still going
    # when a day began), and the review's own events (answers, day closed) found by their day.
    """
    CREATE INDEX runs_by_end ON runs (ended_at);
    CREATE INDEX focus_by_end ON focus_sessions (ended_at);
    CREATE INDEX events_of_review ON events (json_extract(payload, '$.day'))
        WHERE kind IN ('reviewed', 'day_closed');
    """,
    # 5: the environment a job runs with, captured from the shell that added it (stored once
    # per distinct environment), and this database's id for the run tag jobs carry.
    """
    CREATE TABLE environments (
        id   INTEGER PRIMARY KEY,
        body TEXT NOT NULL UNIQUE
    );
    ALTER TABLE tasks ADD COLUMN environ_id INTEGER REFERENCES environments (id);
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) VALUES ('database_id', lower(hex(randomblob(6))));
    """,
    # 6: groups changed from the shell (focusq group set/pause/resume), over the config's.
    """
    CREATE TABLE groups (
        name       TEXT PRIMARY KEY,
        parallel   INTEGER CHECK (parallel IS NULL OR parallel >= 1),
        paused     INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL
    ) WITHOUT ROWID;
    """,
    # 7: finished tasks archived by focusq clean: out of the lists, kept for the review.
    """
    ALTER TABLE tasks ADD COLUMN archived_at REAL;
    CREATE INDEX tasks_archived ON tasks (archived_at) WHERE archived_at IS NOT NULL;
    """,
    # 8: recurring jobs. A template is a task in state 'recurring' (or held, or ended when
    # the series stopped) with its rule here; each run is a task of its own, linked to it.
    """
    CREATE TABLE recurring (
        task_id   INTEGER PRIMARY KEY REFERENCES tasks (id),
        rule      TEXT NOT NULL,
        anchor    REAL NOT NULL,
        catch_up  TEXT CHECK (catch_up IS NULL OR catch_up IN ('one', 'all', 'none')),
        overlap   INTEGER NOT NULL DEFAULT 0,
        next_due  REAL NOT NULL,
        last_run  INTEGER REFERENCES tasks (id)
    );
    CREATE INDEX recurring_by_due ON recurring (next_due);
    CREATE TABLE recurring_runs (
        task_id     INTEGER PRIMARY KEY REFERENCES tasks (id),
        template_id INTEGER NOT NULL REFERENCES tasks (id),
        due         REAL NOT NULL,
        caught_up   INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX recurring_runs_by_template ON recurring_runs (template_id, task_id);
    """,
    # 9: where a job runs (on:NAME, res:KEY=N, host:NAME) and where each run ran.
    """
    ALTER TABLE tasks ADD COLUMN executor TEXT;
    ALTER TABLE tasks ADD COLUMN placement TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE runs ADD COLUMN executor TEXT;
    ALTER TABLE runs ADD COLUMN host TEXT;
    """,
    # 10: each open task's ``--json`` record kept ready (all but why it waits), valid while
    # ``rev`` is what it was written at. Every change to a task or its dependencies moves
    # ``rev`` on, whatever statement made it; a stale record is written again, never shown.
    """
    ALTER TABLE tasks ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
    CREATE TRIGGER tasks_rev AFTER UPDATE ON tasks FOR EACH ROW WHEN NEW.rev = OLD.rev
    BEGIN
        UPDATE tasks SET rev = OLD.rev + 1 WHERE id = NEW.id;
    END;
    CREATE TRIGGER deps_added_rev AFTER INSERT ON deps FOR EACH ROW
    BEGIN
        UPDATE tasks SET rev = rev + 1 WHERE id = NEW.task_id;
    END;
    CREATE TRIGGER deps_removed_rev AFTER DELETE ON deps FOR EACH ROW
    BEGIN
        UPDATE tasks SET rev = rev + 1 WHERE id = OLD.task_id;
    END;
    CREATE TABLE json_cache (
        id   INTEGER PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
        rev  INTEGER NOT NULL,
        head TEXT NOT NULL
    );
    """,
    # 11: the queued jobs whose ``at:`` (or retry backoff) lies ahead, for why they wait:
    # only queued tasks with such a time are in it, so a listing reads those, not every
    # queued job (and a long history of them costs nothing).
    """
    CREATE INDEX tasks_timed ON tasks (not_before, status, kind, attempts, result)
        WHERE not_before IS NOT NULL AND status = 'queued';
    """,
)

LATEST = len(MIGRATIONS)

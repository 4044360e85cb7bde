-- The bundled sample database of the README demo: a small site with its analytics events,
-- bookings and newsletter subscribers.  Load it with
--     sqlite3 /var/lib/chored/demo-app.db < contrib/dev/demo-app.sql
-- Times are ISO 8601 UTC text ("2026-10-03T14:05:00Z"), which the archive plugin reads
-- (it also takes UTC seconds); they are computed from the load time: the events cover the
-- last 90 days, so the monthly archive always has past months to move.
-- The values are fixed functions of the row number: every load gives the same mix.
BEGIN;
DROP TABLE IF EXISTS events;
DROP TABLE IF EXISTS bookings;
DROP TABLE IF EXISTS subscribers;

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,   -- ISO 8601, UTC
    event_type TEXT NOT NULL,   -- pageview, signup, booking, unsubscribe
    path TEXT NOT NULL,
    session TEXT,
    referrer TEXT
);
CREATE INDEX events_created_at ON events (created_at);

-- 360 events, one every 6 hours going back 90 days from now.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 359)
INSERT INTO events (created_at, event_type, path, session, referrer)
SELECT strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (i * 6) || ' hours', '-' || ((i * 37) % 300) || ' minutes'),
       CASE WHEN i % 11 = 0 THEN 'booking'
            WHEN i % 7 = 0 THEN 'signup'
            WHEN i % 29 = 0 THEN 'unsubscribe'
            ELSE 'pageview' END,
       CASE i % 6 WHEN 0 THEN '/' WHEN 1 THEN '/pricing' WHEN 2 THEN '/blog/cron-without-the-cloud'
                  WHEN 3 THEN '/book' WHEN 4 THEN '/blog/backups-that-restore' ELSE '/about' END,
       printf('s%04d', (i * 7919) % 1000),
       CASE i % 4 WHEN 0 THEN NULL WHEN 1 THEN 'https://www.google.com/'
                  WHEN 2 THEN 'https://news.ycombinator.com/' ELSE 'newsletter' END
FROM n;

CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    starts_at TEXT NOT NULL,    -- ISO 8601, UTC
    brand TEXT NOT NULL,
    customer_email TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('confirmed', 'cancelled'))
);
-- 24 bookings over the last and the next two weeks.
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 23)
INSERT INTO bookings (starts_at, brand, customer_email, status)
SELECT strftime('%Y-%m-%dT%H:00:00Z', 'now', 'start of day', '-14 days', '+' || (i * 31) || ' hours'),
       CASE i % 3 WHEN 0 THEN 'byCaliber' WHEN 1 THEN 'Forja' ELSE 'EO' END,
       printf('customer%02d@example.com', i),
       CASE WHEN i % 9 = 4 THEN 'cancelled' ELSE 'confirmed' END
FROM n;

CREATE TABLE subscribers (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    subscribed_at TEXT NOT NULL,
    confirmed INTEGER NOT NULL DEFAULT 0
);
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 39)
INSERT INTO subscribers (email, subscribed_at, confirmed)
SELECT printf('reader%02d@example.org', i),
       strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-' || (i * 53) || ' hours'),
       i % 5 <> 2
FROM n;
COMMIT;

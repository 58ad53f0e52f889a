-- When each site's rounds begin (edge-worker/src/round-schedule.ts): segments of rounds of one
-- length, each from a round id and a start time. Rounds were numbered floor(now / round length)
-- since the epoch, so every existing site gets the one segment that numbers its rounds exactly
-- as before (round 0 at the epoch); a new site's first segment starts when it is created, and a
-- change of round length adds a segment at the next round instead of renumbering the open one.
CREATE TABLE round_schedule (
  site TEXT NOT NULL REFERENCES sites(id),
  from_round INTEGER NOT NULL,
  starts_at INTEGER NOT NULL, -- ms since the epoch
  round_seconds INTEGER NOT NULL,
  PRIMARY KEY (site, from_round)
);
INSERT INTO round_schedule (site, from_round, starts_at, round_seconds) SELECT id, 0, 0, round_seconds FROM sites;

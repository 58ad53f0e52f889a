-- Rounds released on the edge's own schedule (edge-worker/src/scheduled-releases.ts): the last
-- round the schedule has counted (and released, at or above the cohort) for the site. NULL: none
-- yet, so the schedule starts at the site's first round, never before the site existed.
ALTER TABLE sites ADD COLUMN released_through INTEGER;

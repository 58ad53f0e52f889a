-- Report tokens (PRIVACY.md): how many a client address may obtain per round.
ALTER TABLE sites ADD COLUMN tokens_per_address INTEGER NOT NULL DEFAULT 20;

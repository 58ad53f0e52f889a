-- A model's version is the hash of its content, so two sites can upload the same artifact (the
-- same bootstrap model for identical catalogs): a model row belongs to (site, version), each
-- site with its own status. Artifacts are still served by version alone (same bytes).
CREATE TABLE models_by_site_version (
  site TEXT NOT NULL REFERENCES sites(id),
  version TEXT NOT NULL,
  spec_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('candidate', 'serving', 'retired')),
  model_json TEXT NOT NULL,
  weights BLOB NOT NULL,
  created_at TEXT NOT NULL,
  promoted_at TEXT,
  PRIMARY KEY (site, version)
);
INSERT INTO models_by_site_version (site, version, spec_hash, status, model_json, weights, created_at, promoted_at)
  SELECT site, version, spec_hash, status, model_json, weights, created_at, promoted_at FROM models;
DROP INDEX models_by_site;
DROP TABLE models;
ALTER TABLE models_by_site_version RENAME TO models;
CREATE INDEX models_by_site ON models (site, status);
CREATE INDEX models_by_version ON models (version);

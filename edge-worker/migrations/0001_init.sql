-- Vitrine edge storage. Catalog, creatives and models are the merchant's; nothing here is about
-- a shopper. Round sums live in the RoundAggregator Durable Objects, not in D1.

CREATE TABLE sites (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  allowed_origins TEXT NOT NULL DEFAULT '[]',  -- JSON array of origins
  min_cohort INTEGER NOT NULL DEFAULT 50,
  round_seconds INTEGER NOT NULL DEFAULT 86400,
  exploration_floor REAL NOT NULL DEFAULT 0.01,
  updated_at TEXT NOT NULL
);

CREATE TABLE products (
  site TEXT NOT NULL REFERENCES sites(id),
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  category TEXT NOT NULL,
  brand TEXT NOT NULL,
  price REAL NOT NULL,
  image_url TEXT NOT NULL,
  url TEXT NOT NULL,
  in_stock INTEGER NOT NULL DEFAULT 1,
  popularity REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (site, id)
);

CREATE TABLE templates (
  site TEXT NOT NULL REFERENCES sites(id),
  id TEXT NOT NULL,
  body TEXT NOT NULL,  -- the validated Template as JSON
  PRIMARY KEY (site, id)
);

CREATE TABLE creatives (
  site TEXT NOT NULL REFERENCES sites(id),
  id TEXT NOT NULL,
  template_id TEXT NOT NULL,
  product_id TEXT,
  category TEXT,
  message_type TEXT NOT NULL,
  PRIMARY KEY (site, id)
);

-- Model weights are kept in D1 rather than R2: an artifact is tens of kB (the model is capped at
-- 50,000 parameters, 200 kB), far under D1's row limit, and one database keeps upload + promote
-- in one transaction with no second binding for the merchant to create.
CREATE TABLE models (
  version TEXT PRIMARY KEY,          -- content hash of model.json + weights
  site TEXT NOT NULL REFERENCES sites(id),
  spec_hash TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('candidate', 'serving', 'retired')),
  model_json TEXT NOT NULL,
  weights BLOB NOT NULL,
  created_at TEXT NOT NULL,
  promoted_at TEXT
);
CREATE INDEX models_by_site ON models (site, status);

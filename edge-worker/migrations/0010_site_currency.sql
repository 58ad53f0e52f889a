-- The currency of the catalog's prices (ISO 4217): creatives format prices in it for the shopper.
ALTER TABLE sites ADD COLUMN currency TEXT NOT NULL DEFAULT 'USD';

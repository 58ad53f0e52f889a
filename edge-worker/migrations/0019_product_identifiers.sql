-- A product's other identifiers (issue 30): its GTIN (EAN/UPC/ISBN, digits) and its MPN, as
-- shop platforms put them in their pages' markup and in a Google Merchant Center feed. The device
-- matches the page's product to the catalog by any of them (widget/engine/product-identity.ts).
ALTER TABLE products ADD COLUMN gtin TEXT;
ALTER TABLE products ADD COLUMN mpn TEXT;

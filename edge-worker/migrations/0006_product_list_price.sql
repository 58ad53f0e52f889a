-- The price before a sale (compare-at price): what {discount} in a template is computed from.
ALTER TABLE products ADD COLUMN list_price REAL;

-- An example application schema for the demo stack in docker-compose.yml. The postgres image runs
-- this file once, when the db volume is first created, so the first backup has real data in it:
-- an extension, an enum, a partitioned table, jsonb, a materialized view and a sequence, the kind
-- of objects a restore test checks table by table.
CREATE EXTENSION IF NOT EXISTS citext;
CREATE SCHEMA shop;
CREATE TYPE shop.order_status AS ENUM ('new', 'paid', 'shipped', 'cancelled');

CREATE TABLE shop.customers (
  id bigserial PRIMARY KEY,
  email citext UNIQUE NOT NULL,
  profile jsonb NOT NULL DEFAULT '{}'
);
INSERT INTO shop.customers (email, profile)
SELECT 'customer' || g || '@example.com', jsonb_build_object('n', g, 'newsletter', g % 3 = 0)
FROM generate_series(1, 500) g;

CREATE TABLE shop.orders (
  id bigint GENERATED ALWAYS AS IDENTITY,
  customer_id bigint NOT NULL REFERENCES shop.customers (id),
  status shop.order_status NOT NULL,
  total numeric(12, 2) NOT NULL CHECK (total >= 0),
  placed_on date NOT NULL,
  PRIMARY KEY (id, placed_on)
) PARTITION BY RANGE (placed_on);
CREATE TABLE shop.orders_2025 PARTITION OF shop.orders FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE shop.orders_2026 PARTITION OF shop.orders FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO shop.orders (customer_id, status, total, placed_on)
SELECT 1 + g % 500, (ARRAY['new', 'paid', 'shipped', 'cancelled']::shop.order_status[])[1 + g % 4], (g % 1000) / 7.0, DATE '2025-01-01' + (g % 700)
FROM generate_series(1, 2000) g;

CREATE MATERIALIZED VIEW shop.revenue_by_status AS
  SELECT status, count(*) AS orders, sum(total) AS revenue FROM shop.orders GROUP BY status;

CREATE SEQUENCE shop.invoice_numbers START 1000;

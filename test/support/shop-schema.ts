/**
 * A small shop for selective backups and single-table restores: an enum type, a function a CHECK
 * constraint calls, a serial and an identity column, foreign keys, and a large append-only table.
 */
export const SHOP_SQL = `
CREATE SCHEMA shop;
CREATE TYPE shop.status AS ENUM ('new', 'paid', 'shipped');
CREATE FUNCTION shop.price_ok(numeric) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 >= 0';
CREATE TABLE shop.customers (id serial PRIMARY KEY, name text NOT NULL);
CREATE TABLE shop.orders (
  id serial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES shop.customers (id),
  status shop.status NOT NULL DEFAULT 'new',
  total numeric CHECK (shop.price_ok(total))
);
CREATE INDEX orders_status_idx ON shop.orders (status);
CREATE TABLE shop.items (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id int REFERENCES shop.orders (id), status shop.status);
CREATE TABLE public.events (id bigserial PRIMARY KEY, body text);
INSERT INTO shop.customers (name) VALUES ('ada'), ('bob');
INSERT INTO shop.orders (customer_id, status, total) VALUES (1, 'paid', 3), (2, 'new', 4), (1, 'shipped', 5);
DELETE FROM shop.orders WHERE id = 3;
INSERT INTO shop.orders (customer_id, status, total) VALUES (2, 'paid', 7);
INSERT INTO shop.items (order_id, status) VALUES (1, 'paid');
INSERT INTO public.events (body) SELECT 'event ' || g FROM generate_series(1, 500) g;
`;

/** The benchmarks' database: one table of orders, about 200 bytes a row in the dump. */

const ROW_BYTES = 200;

/** Rows for a database whose dump is about `sizeMb` MB. */
export const ordersRows = (sizeMb: number): number => Math.round((sizeMb * 1024 * 1024) / ROW_BYTES);

/** Creates and fills the orders table (run in the benchmark's database). */
export const ordersSql = (rows: number): string =>
    `CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, created_at timestamptz NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL, note text);
     INSERT INTO orders (customer_id, created_at, status, amount, note)
     SELECT (g::bigint * 7919) % 50000, timestamptz '2024-01-01' + g * interval '1 minute', (ARRAY['new','paid','shipped','done'])[1 + g % 4], (g % 100000) / 100.0,
            'Bestellung ' || g || ': ' || md5(g::text) || ' ' || substr(md5((g * 3)::text), 1, 20) || ' Lieferung an Kunde ' || ((g::bigint * 7919) % 50000) || ', ' || (ARRAY['Köln','München','Berlin','Hamburg','Leipzig'])[1 + g % 5] || ' ' || repeat('x', g % 40)
     FROM generate_series(1, ${rows}) g;
     ANALYZE orders;`;

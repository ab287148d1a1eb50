-- Hydra's demo on the bundled sample data: enumerate, investigate, mark.
-- Run it with:  hydra demo.duckdb -f samples/demo.sql
ATTACH OR REPLACE 'samples/data' AS shop;

-- 1. enumerate: every file is an element; the messy one is listed with its error
SELECT ref, kind, row_count, row_count_exact, column_count, error FROM elements ORDER BY ref;

-- 3. investigate with plain SQL, across elements
SELECT c.country, count(*) AS orders, round(sum(o.amount), 2) AS amount
FROM shop."orders.csv" o JOIN shop."customers.csv" c USING (customer_id)
WHERE o.status = 'shipped'
GROUP BY ALL ORDER BY orders DESC LIMIT 5;

-- 4. mark what to take: all clean files, and only 2024 orders
MARK shop.*;
UNMARK shop."legacy/suppliers_messy.csv";
MARK shop."orders.csv" WHERE order_date >= DATE '2024-01-01';
SELECT source, ref, filter FROM marks ORDER BY ref;

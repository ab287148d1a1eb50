-- Hydra's demo on the bundled sample data:
-- enumerate, profile, investigate, mark, extract, reconcile, report.
-- Run it with:  hydra demo.duckdb -f samples/demo.sql     (it can be run again: it starts over)
ATTACH OR REPLACE 'samples/data' AS shop;

-- 1. enumerate: every file is an element; each CSV's dialect and structure as detected (note)
SELECT ref, kind, row_count, row_count_exact, column_count, error FROM elements ORDER BY ref;
SELECT note FROM elements WHERE ref = 'shop."legacy/suppliers_messy.csv"';

-- 2. profile: exact figures computed at the source, kept for reconciliation
PROFILE shop.*;
SELECT ref, row_count, lines, lines_loaded, lines_rejected, lines_skipped
FROM stats WHERE column_name IS NULL ORDER BY ref;

-- 3. investigate with plain SQL, across elements
SELECT c.country, count(*) AS orders, round(sum(o.amount), 2) AS amount
FROM shop."orders.csv" o JOIN shop."customers.csv" c USING (customer_id)
WHERE o.status = 'shipped'
GROUP BY ALL ORDER BY orders DESC LIMIT 5;

-- 4. mark what to take: every file, and only the 2024 orders
UNMARK MARKED;
MARK shop.*;
MARK shop."orders.csv" WHERE order_date >= DATE '2024-01-01';

-- 5. extract to ./out as Parquet (parts, SHA-256 manifests); a second run skips what is complete
EXTRACT MARKED TO 'out' (OVERWRITE true);
SELECT ref, status, rows, files FROM transfers
WHERE run_id = (SELECT max(run_id) FROM transfers) ORDER BY ref;
-- the messy file's lines that were not loaded as they stand: rejected, or repaired and said
SELECT line, action, reason, raw FROM rejects WHERE ref = 'shop."legacy/suppliers_messy.csv"' ORDER BY line;

-- 6. reconcile the copy against the source: every check should pass
RECONCILE LAST;
SELECT status, count(*) AS checks FROM reconciliations
WHERE run_id = (SELECT max(run_id) FROM reconciliations) GROUP BY status;

-- 7. the engagement's report: what exists, what was taken, and the proof (Markdown here; with
--    pip install 'hydra-shell[report]', REPORT TO 'out/report.html' draws the page with charts)
REPORT TO 'out/report.md';

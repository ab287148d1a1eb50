"""The databases the SQL head tests create on the real servers: awkward identifiers, every type.

Shared by the head tests (``tests/heads/sql``) and the end-to-end workspace tests.
"""

SCHEMA_SQL = r'''
CREATE SCHEMA "Sales Ops";
CREATE TYPE "Sales Ops".mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE "Sales Ops"."Order ""Lines""" (
  id integer PRIMARY KEY,
  amount numeric(12,2),
  ratio double precision,
  note text,
  created_at timestamptz,
  day date,
  uid uuid,
  doc jsonb,
  tags text[],
  blob bytea,
  mood "Sales Ops".mood,
  wait interval,
  ok boolean,
  big numeric,
  cash money
);
INSERT INTO "Sales Ops"."Order ""Lines""" VALUES
 (1, 10.50, 0.25, 'plain', '2024-01-02 03:04:05.123456+02', '2024-01-02', '8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c',
  '{"a": 1, "b": [true, null]}', '{x,"y z",NULL}', '\x00ff10', 'happy', '1 year 2 mons 3 days 04:05:06.5', true,
  12345678901234567890.123, 12.34),
 (2, 250.00, -1.5e300, E'comma, "quote"\nnewline', '1999-12-31 23:59:59+00', '1999-12-31', NULL,
  '[]', '{}', '\x', 'sad', '-1 day', false, NULL, -5),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (4, 99.99, 3.0, '', '2030-06-30 12:00:00+00', '2030-06-30', '00000000-0000-0000-0000-000000000000',
  '"text"', '{"a,b","c\"d"}', '\x41', 'ok', '00:00:00.000001', true, 0, 0),
 (5, 1000.00, 1e-10, 'Ünïcödé ✓', '2024-02-29 00:00:00+00', '2024-02-29', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'null', '{"NULL"}', '\x5c', 'ok', '1 mon', NULL, -0.5, 1000000);
CREATE TABLE "Sales Ops"."select" ("Ünïcödé" text, "Mixed Case" integer, "from" integer);
INSERT INTO "Sales Ops"."select" VALUES ('ä', 1, 2), ('b', 2, NULL), (NULL, 3, 4);
CREATE VIEW "Sales Ops"."Big Orders" AS SELECT id, amount FROM "Sales Ops"."Order ""Lines""" WHERE amount > 100;
CREATE MATERIALIZED VIEW "Sales Ops".moods AS
  SELECT mood, count(*) AS n FROM "Sales Ops"."Order ""Lines""" GROUP BY mood;
CREATE VIEW public.session_state AS
  SELECT current_setting('transaction_read_only') AS read_only, current_setting('TimeZone') AS tz;
CREATE TABLE public.numbers (n bigint PRIMARY KEY, d date NOT NULL UNIQUE, label text);
INSERT INTO public.numbers SELECT g, date '2000-01-01' + g::int, 'n' || g FROM generate_series(1, 1000) g;
ANALYZE;
'''
ORDER_LINES = ("Sales Ops", 'Order "Lines"')
Q_LINES = '"Sales Ops"."Order ""Lines"""'  # the same table as PostgreSQL spells it

MYSQL_SETUP = [
    "SET SESSION sql_mode = ''",
    """CREATE TABLE `Order "Lines"` (
        id INT UNSIGNED PRIMARY KEY, amount DECIMAL(12,2), ratio DOUBLE, note TEXT, created DATETIME(6),
        day DATE, flag ENUM('a', 'b c'), big BIGINT UNSIGNED, tiny TINYINT, bin VARBINARY(10),
        ts TIMESTAMP NULL, dur TIME, doc JSON, uid UUID, yr YEAR, bits BIT(4))""",
    """INSERT INTO `Order "Lines"` VALUES
        (1, 10.50, 0.25, 'plain', '2024-01-02 03:04:05.123456', '2024-01-02', 'b c', 18446744073709551615, -128,
         X'00FF', '2024-01-02 03:04:05', '-01:02:03', '{"a": 1}', '8c5e2b1a-3f4d-4e6a-9b7c-1d2e3f4a5b6c', 2024, b'1010'),
        (2, 250.00, NULL, 'tab\\there, "quote", \\\\ back\\nslash', '0000-00-00 00:00:00', '0000-00-00', 'a', 0, 127,
         X'', NULL, '838:59:59', NULL, NULL, NULL, NULL),
        (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        (4, 99.99, 3.5, 'NULL', '2030-06-30 12:00:00', '2030-06-30', 'a', 5, 0, X'41', NULL, '00:00:00', '[]',
         '00000000-0000-0000-0000-000000000001', 1999, b'0001')""",
    "CREATE TABLE `select` (`Ünïcödé` VARCHAR(20), `Mixed Case` INT, `from` INT, `a``b` INT)",
    "INSERT INTO `select` VALUES ('ä', 1, 2, 3), ('B', 2, NULL, NULL), (NULL, 3, 4, 5)",
    "CREATE VIEW `Big Orders` AS SELECT id, amount FROM `Order \"Lines\"` WHERE amount > 100",
    "CREATE TABLE numbers (n BIGINT PRIMARY KEY, label VARCHAR(10))",
    "INSERT INTO numbers WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 500) "
    "SELECT n, CONCAT('n', n) FROM g",
]

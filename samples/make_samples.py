"""Generate Hydra's bundled sample data under ``samples/data/``.

The folder imitates what a data consultant gets handed on day one: a couple
of clean CSV extracts, a Parquet dump, JSON Lines event logs, a JSON lookup
file, a European-style finance export in a folder whose name has a space, a
gzip-compressed archive, and one genuinely messy legacy CSV.

All names, e-mail addresses, phone numbers and amounts are invented.

Deterministic: a fixed random seed and fixed gzip/parquet settings mean that
re-running the script reproduces the same bytes (for a given pyarrow
version).  Needs only the standard library and pyarrow::

    python samples/make_samples.py            # writes samples/data/
    python samples/make_samples.py OUT_DIR    # or somewhere else

Files written (row counts exclude headers):

    customers.csv                      200 customers
    orders.csv                       2,000 orders 2023-2024 (customer_id -> customers)
    products.parquet                    50 products (decimal price, timestamps)
    events.jsonl                       500 web/app events, nested JSON
    regions.json                         6 sales regions, a JSON array
    finance exports/invoices 2024.csv  300 invoices, ';'-delimited
    archive/orders_2022.csv.gz         600 orders from 2022, gzip
    legacy/suppliers_messy.csv          a deliberately broken CSV (see below)
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import gzip
import io
import json
import random
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SEED = 20240611

# ---------------------------------------------------------------------------
# vocabularies (all invented combinations)

NAME_A = [
    "Amber", "Blue", "Brightwater", "Cedar", "Cobalt", "Copper", "Crescent",
    "Driftwood", "Ember", "Fern", "Granite", "Harbor", "Helix", "Iron",
    "Juniper", "Kestrel", "Lantern", "Maple", "Meridian", "Nimbus", "North",
    "Oak", "Orchid", "Pebble", "Quarry", "Raven", "Saffron", "Silver",
    "Sparrow", "Summit", "Tidal", "Umber", "Velvet", "Willow", "Zephyr",
]
NAME_B = [
    "Analytics", "Bakery", "Bikes", "Logistics", "Textiles", "Robotics",
    "Foods", "Outfitters", "Labs", "Media", "Pharma", "Print", "Studios",
    "Systems", "Tools", "Trading", "Works", "Dynamics", "Ceramics", "Freight",
]
# country -> (region_code, currency, legal suffixes, VAT rate)
COUNTRIES = {
    "Germany": ("EMEA-C", "EUR", ["GmbH", "AG", "KG"], "0.19"),
    "Austria": ("EMEA-C", "EUR", ["GmbH"], "0.20"),
    "Netherlands": ("EMEA-C", "EUR", ["B.V."], "0.21"),
    "France": ("EMEA-S", "EUR", ["SARL", "SAS"], "0.20"),
    "Spain": ("EMEA-S", "EUR", ["S.L.", "S.A."], "0.21"),
    "Italy": ("EMEA-S", "EUR", ["S.r.l.", "S.p.A."], "0.22"),
    "United Kingdom": ("EMEA-N", "GBP", ["Ltd", "PLC"], "0.20"),
    "Ireland": ("EMEA-N", "EUR", ["Ltd"], "0.23"),
    "Sweden": ("EMEA-N", "SEK", ["AB"], "0.25"),
    "United States": ("NA", "USD", ["Inc.", "LLC", "Corp."], "0.00"),
    "Canada": ("NA", "CAD", ["Inc.", "Ltd."], "0.05"),
    "Mexico": ("LATAM", "MXN", ["S.A. de C.V."], "0.16"),
    "Brazil": ("LATAM", "BRL", ["Ltda."], "0.00"),
    "Japan": ("APAC", "JPY", ["K.K."], "0.10"),
    "Australia": ("APAC", "AUD", ["Pty Ltd"], "0.10"),
    "Singapore": ("APAC", "SGD", ["Pte. Ltd."], "0.09"),
}
COUNTRY_WEIGHTS = [14, 3, 5, 8, 5, 4, 12, 2, 3, 20, 5, 3, 3, 3, 4, 2]
FIRST = [
    "Anna", "Ben", "Chloé", "Daniel", "Elif", "Farah", "Gustav", "Hana",
    "Ines", "Jonas", "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya",
    "Quentin", "Rosa", "Sven", "Tomás", "Uma", "Viktor", "Wen", "Yara", "Zoë",
]
LAST = [
    "Abernethy", "Brandvold", "Castellano", "Dunmore", "Eriksen", "Falkner",
    "Grünwald", "Halloran", "Ivanova", "Jansen", "Kowalczyk", "Lindqvist",
    "Marchetti", "Nakamura", "Okafor", "Petrova", "Quist", "Rasmussen",
    "Santoro", "Thorne", "Underhill", "Varga", "Whitcombe", "Yilmaz", "Zeller",
]
SEGMENTS = ["Enterprise", "Mid-Market", "SMB", "Public Sector"]
SEGMENT_WEIGHTS = [2, 4, 9, 1]

CATEGORIES = {
    "Sensors": ["Thermal Probe", "Humidity Sensor", "Vibration Tag", "Flow Meter", "Door Contact"],
    "Gateways": ["Edge Gateway", "LoRa Hub", "Cellular Bridge"],
    "Cables": ["Shielded Cable 2m", "Shielded Cable 5m", "Patch Lead", "Power Harness"],
    "Software": ["Fleet Dashboard", "Alerting Add-on", "Data Export Pack", "API Access"],
    "Services": ["Onsite Install", "Calibration Visit", "Training Day", "Premium Support"],
}
PRODUCT_LINES = ["Mk I", "Mk II", "Pro", "Lite", "XL"]
SERVICE_TIERS = ["Basic", "Standard", "Premium", "Team", "Enterprise"]

# rough EUR -> currency rates; product prices are list prices in EUR
FX = {"EUR": 1.0, "USD": 1.08, "GBP": 0.85, "SEK": 11.4, "CAD": 1.47, "MXN": 18.5,
      "BRL": 5.4, "JPY": 160.0, "AUD": 1.63, "SGD": 1.45}

ORDER_STATUS = ["delivered", "shipped", "processing", "cancelled", "returned"]
ORDER_STATUS_WEIGHTS = [70, 12, 6, 8, 4]

REGIONS = [
    ("EMEA-N", "Northern Europe", "Harriet Vale"),
    ("EMEA-C", "Central Europe", "Jörg Brandt"),
    ("EMEA-S", "Southern Europe", "Lucía Ferrante"),
    ("NA", "North America", "Marcus Whitfield"),
    ("LATAM", "Latin America", "Renata Oliveira"),
    ("APAC", "Asia Pacific", "Kenji Arakawa"),
]


# ---------------------------------------------------------------------------
# helpers

def rand_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def money(x: float) -> decimal.Decimal:
    return decimal.Decimal(str(x)).quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP)


def slug(text: str) -> str:
    table = str.maketrans("éèëöüäåøóíúñçÉÖÜ", "eeeouaaooiuncEOU")
    return "".join(c for c in text.lower().translate(table) if c.isalnum())


def write_csv(path: Path, header: list[str], rows: list[list], delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


# ---------------------------------------------------------------------------
# generators

def make_customers(rng: random.Random) -> list[dict]:
    customers = []
    used = set()
    countries = list(COUNTRIES)
    for i in range(200):
        country = rng.choices(countries, COUNTRY_WEIGHTS)[0]
        region, currency, suffixes, _vat = COUNTRIES[country]
        while True:
            base = f"{rng.choice(NAME_A)} {rng.choice(NAME_B)}"
            if base not in used:
                used.add(base)
                break
        name = f"{base} {rng.choice(suffixes)}"
        first, last = rng.choice(FIRST), rng.choice(LAST)
        email = f"{slug(first)}.{slug(last)}@{slug(base)}.example"  # reserved TLD
        if rng.random() < 0.04:
            email = ""  # a few missing contacts, as in real CRM exports
        customers.append({
            "customer_id": 1001 + i,
            "customer_name": name,
            "contact_name": f"{first} {last}",
            "contact_email": email,
            "country": country,
            "region_code": region,
            "currency": currency,
            "segment": rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0],
            "signup_date": rand_date(rng, dt.date(2019, 1, 1), dt.date(2024, 6, 30)),
            "is_active": rng.random() > 0.12,
        })
    return customers


def make_products(rng: random.Random) -> pa.Table:
    rows = []
    n = 0
    cats = list(CATEGORIES)
    while len(rows) < 50:
        cat = cats[n % len(cats)]
        item = CATEGORIES[cat][(n // len(cats)) % len(CATEGORIES[cat])]
        lines = SERVICE_TIERS if cat in ("Software", "Services") else PRODUCT_LINES
        line = lines[(n // 17) % len(lines)]
        n += 1
        name = f"{item} {line}"
        if any(r["product_name"] == name for r in rows):
            continue
        sku = f"{cat[:3].upper()}-{1000 + len(rows) * 7:04d}"
        if cat == "Software":
            price, weight = rng.choice([9.0, 19.0, 49.0, 99.0, 249.0]) - 0.01, None
        elif cat == "Services":
            price, weight = rng.choice([350, 600, 950, 1400]) * 1.0, None
        else:
            price, weight = rng.uniform(8, 480), round(rng.uniform(0.02, 3.5), 3)
        launched = dt.datetime(2018, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(
            seconds=rng.randint(0, 6 * 365 * 86400))
        updated = launched + dt.timedelta(seconds=rng.randint(3600, 400 * 86400))
        rows.append({
            "sku": sku,
            "product_name": name,
            "category": cat,
            "unit_price": money(price),
            "weight_kg": weight,
            "stock_qty": None if cat in ("Software", "Services") else rng.randint(0, 2500),
            "is_discontinued": rng.random() < 0.1,
            "launched_at": launched,
            "updated_at": updated,
        })
    schema = pa.schema([
        pa.field("sku", pa.string(), nullable=False),
        pa.field("product_name", pa.string()),
        pa.field("category", pa.string()),
        pa.field("unit_price", pa.decimal128(10, 2)),
        pa.field("weight_kg", pa.float64()),
        pa.field("stock_qty", pa.int32()),
        pa.field("is_discontinued", pa.bool_()),
        pa.field("launched_at", pa.timestamp("us", tz="UTC")),
        pa.field("updated_at", pa.timestamp("us", tz="UTC")),
    ])
    return pa.Table.from_pylist(rows, schema=schema)


def make_orders(rng, customers, products, n, first_id, start, end):
    """Orders placed between ``start`` and ``end`` by customers signed up by then."""
    eligible = [c for c in customers if c["signup_date"] <= end]
    skus = products.column("sku").to_pylist()
    prices = dict(zip(skus, products.column("unit_price").to_pylist()))
    # a few big accounts place most orders
    weights = [rng.paretovariate(2.0) for _ in eligible]
    dates = sorted(rand_date(rng, start, end) for _ in range(n))
    rows = []
    for i, day in enumerate(dates):
        while True:
            c = rng.choices(eligible, weights)[0]
            if c["signup_date"] <= day:
                break
        sku = rng.choice(skus)
        if sku.startswith(("SER", "SOF")):
            qty = rng.choices([1, 2, 3], [70, 20, 10])[0]
        else:
            qty = rng.choices([1, 2, 3, 5, 10, 25], [40, 20, 12, 10, 8, 3])[0]
        discount = rng.choice([0, 0, 0, 0.05, 0.1, 0.15])
        amount = money(float(prices[sku]) * qty * (1 - discount) * FX[c["currency"]])
        status = rng.choices(ORDER_STATUS, ORDER_STATUS_WEIGHTS)[0]
        if day > end - dt.timedelta(days=10):
            status = rng.choice(["processing", "shipped"])
        rows.append([first_id + i, c["customer_id"], day.isoformat(), sku, qty,
                     f"{amount}", c["currency"], status])
    return rows


ORDER_HEADER = ["order_id", "customer_id", "order_date", "sku", "quantity", "amount",
                "currency", "status"]


def make_events(rng, customers, products) -> list[dict]:
    skus = products.column("sku").to_pylist()
    known = [c["customer_id"] for c in customers if c["is_active"]]
    devices = [
        {"type": "desktop", "os": "Windows", "browser": "Chrome"},
        {"type": "desktop", "os": "macOS", "browser": "Safari"},
        {"type": "desktop", "os": "Linux", "browser": "Firefox"},
        {"type": "mobile", "os": "iOS", "browser": "Safari"},
        {"type": "mobile", "os": "Android", "browser": "Chrome"},
        {"type": "tablet", "os": "iPadOS", "browser": "Safari"},
    ]
    searches = ["temperature sensor", "gateway lora", "cable 5m", "api pricing",
                "calibration", "vibration", "export csv", "bulk discount"]
    t = dt.datetime(2024, 11, 4, 7, 0, 0, tzinfo=dt.timezone.utc)
    events = []
    session = None
    for i in range(500):
        if session is None or rng.random() < 0.15:
            cid = rng.choice(known) if rng.random() < 0.7 else None
            session = {
                "id": f"s-{rng.getrandbits(40):010x}",
                "customer_id": cid,
                "device": rng.choice(devices),
                "utm": ({"source": rng.choice(["newsletter", "google", "linkedin"]),
                         "campaign": rng.choice(["q4-launch", "winter-promo", "webinar-11"])}
                        if rng.random() < 0.35 else None),
            }
        t += dt.timedelta(seconds=rng.randint(1, 900))
        etype = rng.choices(
            ["page_view", "search", "add_to_cart", "checkout", "login", "error"],
            [50, 15, 14, 6, 10, 5])[0]
        if etype == "page_view":
            sku = rng.choice(skus)
            props = {"path": f"/products/{sku}", "sku": sku,
                     "duration_ms": rng.randint(300, 90000)}
        elif etype == "search":
            props = {"query": rng.choice(searches), "results": rng.randint(0, 40)}
        elif etype == "add_to_cart":
            props = {"sku": rng.choice(skus), "qty": rng.choice([1, 1, 2, 5])}
        elif etype == "checkout":
            props = {"items": [{"sku": rng.choice(skus), "qty": rng.choice([1, 2, 3])}
                               for _ in range(rng.randint(1, 3))],
                     "payment": rng.choice(["card", "invoice", "paypal"])}
        elif etype == "login":
            props = {"method": rng.choice(["password", "sso", "magic_link"]),
                     "success": rng.random() > 0.08}
        else:
            props = {"code": rng.choice([404, 500, 502, 429]),
                     "message": rng.choice(["not found", "upstream timeout", "rate limited"])}
        ev = {
            "event_id": f"evt_{i + 1:05d}",
            "ts": t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}Z",
            "event_type": etype,
            "customer_id": session["customer_id"],
            "session": {"id": session["id"], "device": session["device"]},
            "properties": props,
        }
        if session["utm"]:
            ev["session"]["utm"] = session["utm"]
        if rng.random() < 0.2:
            ev["tags"] = rng.sample(["beta", "eu", "internal", "bot-suspect", "vip"],
                                    rng.randint(1, 2))
        events.append(ev)
    return events


def make_regions(customers) -> list[dict]:
    out = []
    for code, name, manager in REGIONS:
        countries = sorted(c for c, v in COUNTRIES.items() if v[0] == code)
        first, last = manager.split(" ", 1)
        out.append({
            "region_code": code,
            "region_name": name,
            "countries": countries,
            "manager": {"name": manager,
                        "email": f"{slug(first)}.{slug(last)}@hydra-demo.example"},
            "customer_count": sum(1 for c in customers if c["region_code"] == code),
            "quota_eur": 250000 * (1 + len(countries)),
        })
    return out


def make_invoices(rng, customers) -> list[list]:
    rows = []
    for i in range(300):
        c = rng.choice([c for c in customers if c["signup_date"] <= dt.date(2024, 12, 31)])
        day = rand_date(rng, dt.date(2024, 1, 1), dt.date(2024, 12, 31))
        net = money(rng.uniform(120, 18000) * FX[c["currency"]])
        vat = COUNTRIES[c["country"]][3]
        gross = money(float(net) * (1 + float(vat)))
        paid = rng.random() < 0.8 and day < dt.date(2024, 12, 1)
        rows.append([
            f"INV-2024-{i + 1:05d}", c["customer_id"], c["customer_name"], day.isoformat(),
            (day + dt.timedelta(days=30)).isoformat(), f"{net}", vat, f"{gross}",
            c["currency"], "yes" if paid else "no",
        ])
    rows.sort(key=lambda r: (r[3], r[0]))
    return rows


# The messy file is written byte by byte: UTF-8 BOM, a Latin-1 byte (0xFC, 'ü'),
# a preamble line, blank lines, CRLF and LF mixed, inconsistent quoting, a
# ragged row, a row using ';', mixed date and number formats and a footer.
MESSY_LINES: list[bytes] = [
    "\ufeffSupplier master export - SupplyBase v2.3 - generated 2019-2023\r\n".encode(),
    b"supplier_id,supplier_name,contact,country,phone,onboarded,rating,annual_spend,notes\r\n",
    b"S-001,Northwind Fasteners Ltd,Harriet Vale,United Kingdom,+44 20 7946 0112,2019-03-04,4.5,\"12,400.00\",\r\n",
    "S-002,\"Kessler & Söhne GmbH\",\"Jörg Brandt\",Germany,+49 30 901820,04/11/2020,4,8800,\"Prefers invoices by post, not e-mail\"\r\n".encode(),
    b"\r\n",
    b"S-003,Brightwater Supply Co.,\"O'Neill, Maeve\",Ireland,+353 1 555 0190,12 Jan 2021,3.8,\"3,150.50\",\"said \"\"call after 3pm\"\"\"\n",
    b"S-004,M\xfcller Pr\xe4zision AG,Lukas M\xfcller,Switzerland,+41 44 555 01 77,2021.05.17,n/a,15000,latin-1 bytes from an old ERP\r\n",
    b"S-005,Vantage Polymers,Dev Anand,India,+91 22 5550 1234,2022-01-13,4.2,9200,rush orders ok,fax only,see ticket 4411\r\n",
    b"S-006,'Pacific Rim Trading',Mei Tan,Singapore,+65 6555 0148,20220301,4.9,\"21,000\",\r\n",
    b"\r\n",
    b"\r\n",
    b"S-007,\"Cedar & Kiln Ceramics\",Rosa Santoro,Italy,+39 06 5550 3321,2022-06-30,3,\"4.500,00\",\"multi-line note:\nships Tue/Thu only\"\r\n",
    b"S-008;Granite Freight S.L.;Tom\xc3\xa1s Varga;Spain;+34 91 555 0199;2023-02-14;4.1;7300;exported from the Madrid office\r\n",
    b"S-009,Juniper Labs Inc.,   Priya Okafor  ,United States,(555) 010-4477,3/7/23,4.7,USD 18000,\r\n",
    b"S-010,Kestrel Robotics K.K.,Kenji Arakawa,Japan,+81 3 5550 8812,2023-07-21,,NULL,\"awaiting W-8BEN\r\n",
    b"S-011,Umber Textiles Pty Ltd,Wen Zeller,Australia,+61 2 5550 7765,2023-09-05,4.0,5600,\r\n",
    b",,,,,,,,\r\n",
    b"TOTAL,,,,,,,\"105,950.50\",11 suppliers\r\n",
]


def write_messy(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(MESSY_LINES))


# ---------------------------------------------------------------------------

def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent / "data"
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)

    customers = make_customers(rng)
    write_csv(out / "customers.csv", list(customers[0]),
              [[("true" if v is True else "false" if v is False else v) for v in c.values()]
               for c in customers])

    products = make_products(rng)
    pq.write_table(products, out / "products.parquet", compression="zstd",
                   write_statistics=True)

    orders = make_orders(rng, customers, products, 2000, 500001,
                         dt.date(2023, 1, 1), dt.date(2024, 12, 31))
    write_csv(out / "orders.csv", ORDER_HEADER, orders)

    old = make_orders(rng, customers, products, 600, 400001,
                      dt.date(2022, 1, 1), dt.date(2022, 12, 31))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ORDER_HEADER)
    w.writerows(old)
    (out / "archive").mkdir(exist_ok=True)
    with open(out / "archive" / "orders_2022.csv.gz", "wb") as raw:
        # filename="" and mtime=0 keep the gzip header reproducible
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(buf.getvalue().encode("utf-8"))

    events = make_events(rng, customers, products)
    with open(out / "events.jsonl", "w", encoding="utf-8", newline="\n") as fh:
        for ev in events:
            fh.write(json.dumps(ev, ensure_ascii=False) + "\n")

    with open(out / "regions.json", "w", encoding="utf-8", newline="\n") as fh:
        json.dump(make_regions(customers), fh, ensure_ascii=False, indent=2)
        fh.write("\n")

    write_csv(out / "finance exports" / "invoices 2024.csv",
              ["invoice_no", "customer_id", "customer_name", "invoice_date", "due_date",
               "net_amount", "vat_rate", "gross_amount", "currency", "paid"],
              make_invoices(rng, customers), delimiter=";")

    write_messy(out / "legacy" / "suppliers_messy.csv")

    for p in sorted(out.rglob("*")):
        if p.is_file():
            print(f"{p.stat().st_size:>9,}  {p.relative_to(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

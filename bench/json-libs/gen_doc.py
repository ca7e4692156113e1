#!/usr/bin/env python3
"""Writes two ~4 KiB JSON answers that are equal as JSON but differ in key
order, whitespace and number spelling (a.json, b.json), for json_libs.c."""
import json, random, sys

random.seed(16)
items = []
for i in range(20):
    items.append({
        "id": 1000 + i, "sku": "SKU-%05d" % (i * 37), "name": "Caf\u00e9 \u2603 item %d" % i,
        "price": round(random.uniform(1, 500), 2), "qty": random.randint(0, 50),
        "tags": ["a", "b\u00fc", "c"][: 1 + i % 3], "active": i % 2 == 0,
        "dims": {"w": 10.5, "h": 2, "unit": "cm"}, "note": None,
    })
doc = {"meta": {"requested_at": "2026-12-03T09:30:00Z", "version": 3, "page": 1,
                "total": 140, "big": 9007199254740993},
       "items": items, "summary": {"sum": 1234.5, "count": 20, "ratio": 1e-3}}
a = json.dumps(doc, ensure_ascii=True)
# b: keys reversed, pretty-printed, 1.0-style spellings of integers
def rev(o):
    if isinstance(o, dict):
        return {k: rev(o[k]) for k in reversed(list(o))}
    if isinstance(o, list):
        return [rev(x) for x in o]
    return o
b = json.dumps(rev(doc), ensure_ascii=False, indent=1).replace('"h": 2', '"h": 2.0').replace('"count": 20', '"count": 2.0e1')
open(sys.argv[1] + "/a.json", "w").write(a)
open(sys.argv[1] + "/b.json", "w").write(b)
print(len(a.encode()), len(b.encode()))

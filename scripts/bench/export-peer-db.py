"""Copies the public open-list entries of a Kaifang SQLite database into a plain SQLite
database with an FTS5 trigram index (the usual way to search Chinese text in SQLite), for
Datasette to serve side by side with Kaifang in the benchmarks.

    python3 scripts/bench/export-peer-db.py KAIFANG_DB PEER_DB
"""
import json
import sqlite3
import sys

src, dst = sys.argv[1], sys.argv[2]
s = sqlite3.connect(src)
d = sqlite3.connect(dst)
d.executescript(
    "DROP TABLE IF EXISTS datasets; DROP TABLE IF EXISTS datasets_fts;"
    "CREATE TABLE datasets (id TEXT PRIMARY KEY, name TEXT, summary TEXT, keywords TEXT, labels TEXT,"
    " provider TEXT, domain TEXT, formats TEXT, open_type TEXT);"
)
rows = []
for id_, slug, meta in s.execute(
    "SELECT d.id, o.slug, d.metadata FROM datasets d JOIN organizations o ON o.id = d.org_id "
    "WHERE d.status IN ('published','static') AND d.open_type <> 'not_open'"
):
    m = json.loads(meta)
    rows.append((id_, m["name"], m["summary"], " ".join(m["keywords"]),
                 " ".join(i["label"] for i in m["data_items"]), slug, m["domain"],
                 ",".join(m["formats"]), m["open_type"]))
d.executemany("INSERT INTO datasets VALUES (?,?,?,?,?,?,?,?,?)", rows)
d.executescript(
    "CREATE VIRTUAL TABLE datasets_fts USING fts5(name, summary, keywords, labels, provider,"
    ' content="datasets", tokenize="trigram");'
    "INSERT INTO datasets_fts(rowid, name, summary, keywords, labels, provider)"
    " SELECT rowid, name, summary, keywords, labels, provider FROM datasets;"
)
d.commit()

"""Drives the DataStore actions with the official ckanapi client, as a CKAN user would.

Usage: ckanapi_datastore.py BASE_URL DATASET_ID
Prints one JSON object of what each call answered, for the Rust test to check.
"""
import json
import sys

import ckanapi

base, dataset = sys.argv[1], sys.argv[2]
ckan = ckanapi.RemoteCKAN(base, user_agent="kaifang-test")
out = {}

package = ckan.action.package_show(id=dataset)
csv = [r for r in package["resources"] if r["format"] == "CSV"][0]
out["csv_resource"] = {k: csv[k] for k in ("id", "url", "datastore_active")}
out["resource_show"] = ckan.action.resource_show(id=csv["id"])["url"] == csv["url"]

found = ckan.action.datastore_search(resource_id=csv["id"], filters={"district": "浦东新区"})
out["by_district"] = {"total": found["total"], "names": [r["name"] for r in found["records"]]}

ranged = ckan.action.datastore_search(
    resource_id=csv["id"], filters={"capital": {"gte": 10, "lt": 100}}, fields=["name", "capital"]
)
out["ranged"] = ranged["records"]

listed = ckan.action.datastore_search(
    resource_id=csv["id"], records_format="lists", sort="name desc", limit=2, offset=1
)
out["lists"] = {"records": listed["records"], "fields": [f["id"] for f in listed["fields"]]}

out["words"] = ckan.action.datastore_search(resource_id=csv["id"], q="便民")["total"]
out["csv"] = ckan.action.datastore_search(resource_id=csv["id"], records_format="csv", limit=1)["records"]

try:
    ckan.action.datastore_search(resource_id=csv["id"], filters={"nosuch": 1})
    out["unknown_field"] = "answered"
except ckanapi.ValidationError as e:
    out["unknown_field"] = "ValidationError"

sql = 'SELECT district, count(*) AS n FROM "%s" GROUP BY district ORDER BY n DESC, district LIMIT 1' % csv["id"]
out["sql"] = ckan.action.datastore_search_sql(sql=sql)["records"]
try:
    ckan.action.datastore_search_sql(sql='DROP TABLE "%s"' % csv["id"])
    out["sql_write"] = "answered"
except ckanapi.ValidationError:
    out["sql_write"] = "ValidationError"

info = ckan.action.datastore_info(id=csv["id"])
out["info"] = {"count": info["meta"]["count"], "fields": [f["id"] for f in info["fields"]]}

print(json.dumps(out, ensure_ascii=False))

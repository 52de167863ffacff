"""Drives Kaifang's CKAN-compatible API with the official ckanapi client.

usage: python ckanapi_client.py BASE_URL
Prints one JSON object with what each action returned, for the Rust test to check.
"""
import json
import sys

import ckanapi


def main():
    ckan = ckanapi.RemoteCKAN(sys.argv[1], user_agent="kaifang-test")
    out = {}
    out["status"] = ckan.action.status_show()
    out["package_list"] = ckan.action.package_list()
    search = ckan.action.package_search(
        q="公交", fq="organization:sh-transport", rows=5,
        **{"facet.field": ["organization", "tags", "res_format", "open_type"], "facet.limit": 10})
    out["search"] = {
        "count": search["count"],
        "names": [p["name"] for p in search["results"]],
        "titles": [p["title"] for p in search["results"]],
        "facets": sorted(search["search_facets"].keys()),
        "formats": [i["name"] for i in search["search_facets"]["res_format"]["items"]],
        "extras": sorted(e["key"] for e in search["results"][0]["extras"]) if search["results"] else [],
    }
    first = out["package_list"][0]
    out["package_show"] = ckan.action.package_show(id=first)["title"]
    out["organizations"] = ckan.action.organization_list()
    out["organization_show"] = ckan.action.organization_show(id="sh-transport", include_datasets=True)["package_count"]
    out["tags"] = ckan.action.tag_list()
    try:
        ckan.action.package_show(id="no-such-dataset")
        out["not_found"] = "no error"
    except ckanapi.NotFound:
        out["not_found"] = "NotFound"
    # More rows than a page holds are clamped to 1000, as CKAN's rows_max does.
    out["rows_clamped"] = len(ckan.action.package_search(rows=5000)["results"]) <= 1000
    try:
        ckan.action.package_search(fq="colour:red")
        out["bad_fq"] = "no error"
    except ckanapi.SearchQueryError:
        out["bad_fq"] = "SearchQueryError"
    # The rest of what CKAN clients and harvesters call.
    out["help_show"] = "fq" in ckan.action.help_show(name="package_search")
    out["site_read"] = ckan.action.site_read()
    shown = ckan.action.package_show(id=first)
    out["resource_show"] = ckan.action.resource_show(id=shown["resources"][0]["id"])["package_id"] == first
    out["groups"] = ckan.action.group_list()
    out["group_show"] = ckan.action.group_show(id="transport", include_datasets=True)["package_count"]
    out["tag_show"] = len(ckan.action.tag_show(id="停车", include_datasets=True)["packages"])
    out["licences"] = [l["id"] for l in ckan.action.license_list()]
    out["package_autocomplete"] = [p["title"] for p in ckan.action.package_autocomplete(q="停车")]
    out["organization_autocomplete"] = [o["name"] for o in ckan.action.organization_autocomplete(q="transport")]
    out["sorted_titles"] = [p["title"] for p in ckan.action.package_search(sort="title_string desc")["results"]]
    out["negated"] = ckan.action.package_search(fq="-tags:停车")["count"]
    out["alternatives"] = ckan.action.package_search(fq="tags:停车 OR tags:公交")["count"]
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()

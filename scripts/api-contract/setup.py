"""Usage: setup.py BASE_URL EMAIL PASSWORD PROVIDER_SLUG

Prepares a run of Schemathesis against a running demo: signs in as a demo account, makes a
token, and finds the objects the demo holds (a provider, its entries, a ticket, a job...), so
that path parameters name things that exist. Prints shell `export` lines."""

import json
import shlex
import sys
import urllib.request
from http.cookiejar import CookieJar

base, email, password, org_slug = sys.argv[1:5]
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))


def call(method, path, body=None, headers=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    with opener.open(request) as answer:
        return json.load(answer)


signed_in = call("POST", "/api/v1/auth/login", {"email": email, "password": password})
csrf = {"X-CSRF-Token": signed_in["csrf_token"]}
token = call("POST", "/api/v1/me/tokens", {"name": "api contract"}, csrf)["token"]
auth = {"Authorization": "Bearer " + token}

me = call("GET", "/api/v1/me", headers=auth)
org = call("GET", "/api/v1/orgs/" + org_slug)
datasets = call("GET", "/api/v1/datasets?per_page=1&provider=" + org["slug"])["results"]
tickets = call("GET", "/api/v1/orgs/%s/tickets?limit=1" % org["slug"], headers=auth)
items = call("GET", "/api/v1/orgs/%s/catalogue" % org["slug"], headers=auth)["items"]
members = call("GET", "/api/v1/orgs/%s/members" % org["slug"], headers=auth)["members"]

values = {
    "KF_TOKEN": token,
    "KF_ORG": org["slug"],
    "KF_DATASET": datasets[0]["id"] if datasets else "none",
    "KF_TICKET": tickets["tickets"][0]["id"] if tickets["tickets"] else "none",
    "KF_ITEM": items[0]["id"] if items else "none",
    "KF_USER": members[0]["user_id"] if members else me["id"],
}
for name, value in values.items():
    print("export %s=%s" % (name, shlex.quote(value)))

//! The dictionaries CKAN answers with: packages, resources, organizations, groups, licences.

use serde_json::{Value, json};

/// CKAN's timestamp shape: local time without offset, microseconds. Shown in China Standard Time.
pub(super) fn ckan_time(rfc3339: &Value) -> Value {
    match rfc3339
        .as_str()
        .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
    {
        Some(t) => json!(t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()),
        None => Value::Null,
    }
}

/// Turns our public JSON of an entry into a CKAN package dict. The rules' metadata (A9) that
/// CKAN has no field for goes into `extras`.
pub(crate) fn package(d: &Value, public_url: &str) -> Value {
    let m = &d["metadata"];
    let id = d["id"].as_str().unwrap_or_default();
    let org = &d["provider"];
    let tags: Vec<Value> = m["keywords"]
        .as_array()
        .map(|k| k.iter().filter_map(Value::as_str).map(|t| json!({ "name": t, "display_name": t, "state": "active", "vocabulary_id": null })).collect())
        .unwrap_or_default();
    let base = public_url.trim_end_matches('/');
    let landing = format!("{base}/datasets/{id}");
    let data = &d["data"];
    let resources: Vec<Value> = if data.is_object() {
        data_resources(d, base)
    } else {
        m["formats"]
            .as_array()
            .map(|fs| {
                fs.iter()
                    .filter_map(Value::as_str)
                    .enumerate()
                    .map(|(i, f)| {
                        json!({
                            "id": format!("{id}-{f}"), "package_id": id, "position": i,
                            "name": format!("{} ({})", m["name"].as_str().unwrap_or_default(), f.to_ascii_uppercase()),
                            "format": f.to_ascii_uppercase(), "url": landing, "state": "active",
                            "datastore_active": false,
                        })
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let extra = |key: &str, value: &Value| {
        let v = match value {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        json!({ "key": key, "value": v })
    };
    let extras = vec![
        extra("open_type", &m["open_type"]),
        extra("domain", &m["domain"]),
        extra("update_frequency", &m["update_frequency"]),
        extra("time_range", &m["time_range"]),
        extra("spatial_range", &m["spatial"]),
        extra("data_items", &m["data_items"]),
        extra("open_conditions", &m["conditions"]),
        extra("required_materials", &m["materials"]),
        extra("relations", &m["relations"]),
        extra("contact", &m["contact"]),
        extra("source", &m["source"]),
        extra("source_note", &m["source_note"]),
        extra("citation", &d["citation"]),
        extra("version", &d["version"]),
        extra("status", &d["status"]),
    ];
    json!({
        "id": id,
        "name": id,
        "title": m["name"],
        "notes": m["summary"],
        "type": "dataset",
        "state": "active",
        "private": false,
        "url": landing,
        "version": d["version"].as_i64().map(|v| v.to_string()),
        "author": org["name_zh"],
        "maintainer": m["contact"]["name"],
        "maintainer_email": m["contact"]["email"],
        "license_id": m["license"],
        "license_title": m["license"],
        "metadata_created": ckan_time(&d["created_at"]),
        "metadata_modified": ckan_time(&d["updated_at"]),
        "owner_org": org["id"],
        "organization": {
            "id": org["id"], "name": org["slug"], "title": org["name_zh"], "type": "organization",
            "state": "active", "is_organization": true, "approval_status": "approved",
        },
        "tags": tags,
        "num_tags": m["keywords"].as_array().map_or(0, Vec::len),
        "num_resources": resources.len(),
        "resources": resources,
        "groups": [{ "id": m["domain"], "name": m["domain"], "title": m["domain"], "display_name": m["domain"] }],
        "extras": extras,
    })
}

/// The resources of an entry whose data is published: its current version in each format the
/// platform serves, downloading for real when the data is open. The CSV resource is the one in
/// the datastore (`datastore_search` takes its id).
fn data_resources(d: &Value, base: &str) -> Vec<Value> {
    let id = d["id"].as_str().unwrap_or_default();
    let data = &d["data"];
    let version = data["version"].as_i64().unwrap_or(0);
    let open = data["open"].as_bool().unwrap_or(false);
    let name = d["metadata"]["name"].as_str().unwrap_or_default();
    let modified = ckan_time(&data["published_at"]);
    [
        ("csv", "text/csv"),
        ("json", "application/json"),
        ("parquet", "application/vnd.apache.parquet"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (f, mimetype))| {
        let url = if open {
            format!("{base}/datasets/{id}/download?format={f}&version={version}")
        } else {
            format!("{base}/datasets/{id}")
        };
        json!({
            "id": format!("{id}-{f}"), "package_id": id, "position": i,
            "name": format!("{name} ({})", f.to_ascii_uppercase()),
            "description": format!("v{version}"),
            "format": f.to_ascii_uppercase(), "mimetype": mimetype, "url": url,
            "url_type": null, "state": "active",
            "size": if *f == "parquet" { data["size"].clone() } else { Value::Null },
            "last_modified": modified, "created": modified,
            "datastore_active": open && *f == "csv",
        })
    })
    .collect()
}

/// A conditional entry's published sample as a resource of its package: CSV, for anyone.
pub(super) fn sample_resource(
    d: &store::datasets::DatasetRecord,
    s: &store::samples::SampleRecord,
    position: usize,
    base: &str,
) -> Value {
    let id = d.id.to_string();
    let base = base.trim_end_matches('/');
    let at = s
        .finished_at
        .map(|t| ckan_time(&json!(domain::clock::Timestamp(t).to_rfc3339())))
        .unwrap_or(Value::Null);
    json!({
        "id": format!("{id}-sample"), "package_id": id, "position": position,
        "name": format!("{}（样本数据）", d.meta.name),
        "description": format!("样本数据：{} 条，无需申请即可下载", s.rows.unwrap_or(0)),
        "format": "CSV", "mimetype": "text/csv",
        "url": format!("{base}/datasets/{id}/sample?format=csv"),
        "url_type": null, "state": "active", "resource_type": "sample",
        "size": Value::Null, "last_modified": at, "created": at,
        "datastore_active": false,
    })
}

pub(super) fn organization(o: &store::orgs::OrgRecord, package_count: Option<u64>) -> Value {
    json!({
        "id": o.id, "name": o.slug, "title": o.name_zh, "display_name": o.name_zh,
        "description": o.name_en, "type": "organization", "state": "active",
        "is_organization": true, "approval_status": "approved",
        "created": ckan_time(&json!(o.created_at.to_rfc3339())),
        "package_count": package_count.unwrap_or(0),
        "image_url": "", "extras": [{ "key": "kind", "value": o.kind.as_str() }],
    })
}

/// A domain as a CKAN group.
pub(super) fn group(d: &store::vocab::DomainRow, package_count: Option<u64>) -> Value {
    json!({
        "id": d.code, "name": d.code, "title": d.name_zh, "display_name": d.name_zh,
        "description": d.name_en, "type": "group", "state": "active",
        "is_organization": false, "approval_status": "approved",
        "package_count": package_count.unwrap_or(0),
        "image_url": "", "image_display_url": "",
        "extras": [{ "key": "domain_group", "value": d.domain_group }],
    })
}

/// A licence named by entries, as CKAN's licence dictionary. Licences are free text of each
/// entry, so the name is its own identifier and title.
pub(super) fn licence(name: &str) -> Value {
    json!({
        "id": name, "title": name, "url": "", "status": "active", "maintainer": "",
        "family": "", "domain_content": true, "domain_data": true, "domain_software": false,
        "od_conformance": "not reviewed", "osd_conformance": "not reviewed",
    })
}

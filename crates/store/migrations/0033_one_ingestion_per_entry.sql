-- One file of an entry is ingested at a time. The upload checks this before it stores the file,
-- but two uploads arriving together both passed that check; the database now holds the rule.
-- Where that race already happened, the older uploads of an entry still being read are ended
-- as failed, so that the index can be built; their jobs find them no longer ingesting.
UPDATE data_versions SET state = 'failed', error = 'interrupted', finished_at = created_at
WHERE state = 'ingesting'
  AND id <> (SELECT MAX(d.id) FROM data_versions d
             WHERE d.dataset_id = data_versions.dataset_id AND d.state = 'ingesting');
CREATE UNIQUE INDEX data_versions_one_ingesting ON data_versions (dataset_id)
WHERE state = 'ingesting';

-- The open list: managed vocabularies, the classification guide's versions, the public data
-- catalogue of each provider, and open-list entries with their published versions.

CREATE TABLE domains (
    code         TEXT PRIMARY KEY,
    name_zh      TEXT NOT NULL,
    name_en      TEXT NOT NULL,
    domain_group TEXT NOT NULL,
    position     BIGINT NOT NULL
);

CREATE TABLE formats (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    -- Openness on CKAN's five-star scale (1 open licence ... 5 linked data).
    openness    BIGINT NOT NULL,
    -- 1 when opening it needs proprietary software (A9.3).
    proprietary BIGINT NOT NULL
);

CREATE TABLE glossary (
    term           TEXT PRIMARY KEY,
    explanation_zh TEXT NOT NULL,
    explanation_en TEXT NOT NULL
);

CREATE TABLE classification_guides (
    version    BIGINT PRIMARY KEY,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT
);

CREATE TABLE catalogue_items (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations(id),
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT NOT NULL,
    source_system TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    UNIQUE (org_id, code)
);

CREATE TABLE datasets (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL REFERENCES organizations(id),
    status            TEXT NOT NULL,
    -- Denormalised from the working metadata for listing and filtering.
    name              TEXT NOT NULL,
    open_type         TEXT NOT NULL,
    domain            TEXT NOT NULL,
    -- The working copy: the draft of a new entry, or the latest published metadata.
    metadata          TEXT NOT NULL,
    guide_version     BIGINT NOT NULL,
    published_version BIGINT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    last_reviewed_at  BIGINT
);
CREATE INDEX datasets_org ON datasets(org_id, status);
CREATE INDEX datasets_status ON datasets(status, open_type);

CREATE TABLE dataset_versions (
    dataset_id   TEXT NOT NULL REFERENCES datasets(id),
    version      BIGINT NOT NULL,
    metadata     TEXT NOT NULL,
    status       TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    ticket_id    TEXT,
    PRIMARY KEY (dataset_id, version)
);

-- Which catalogue item each field of an entry's working copy links to (A9.5). Kept as rows so
-- the database itself refuses to delete a linked catalogue item.
CREATE TABLE dataset_item_links (
    dataset_id        TEXT NOT NULL REFERENCES datasets(id),
    item_name         TEXT NOT NULL,
    catalogue_item_id TEXT NOT NULL REFERENCES catalogue_items(id),
    PRIMARY KEY (dataset_id, item_name)
);
CREATE INDEX dataset_item_links_item ON dataset_item_links(catalogue_item_id);

INSERT INTO domains (code, name_zh, name_en, domain_group, position) VALUES
 ('economy',        '经济建设',   'Economy',                       'economy', 1),
 ('finance',        '财税金融',   'Finance and tax',               'economy', 2),
 ('market',         '市场监管',   'Market regulation',             'economy', 3),
 ('credit',         '信用服务',   'Credit',                        'economy', 4),
 ('science',        '科技创新',   'Science and technology',        'economy', 5),
 ('health',         '卫生健康',   'Health',                        'livelihood', 6),
 ('education',      '教育文化',   'Education and culture',         'livelihood', 7),
 ('social_security','社会保障',   'Social security and employment','livelihood', 8),
 ('civil_affairs',  '民政服务',   'Civil affairs',                 'livelihood', 9),
 ('tourism',        '文化旅游',   'Culture and tourism',           'livelihood', 10),
 ('transport',      '道路交通',   'Transport',                     'city_governance', 11),
 ('environment',    '资源环境',   'Resources and environment',     'city_governance', 12),
 ('urban',          '城市建设',   'Urban construction',            'city_governance', 13),
 ('public_safety',  '公共安全',   'Public safety',                 'city_governance', 14),
 ('government',     '机构团体',   'Government and organizations',  'city_governance', 15);

INSERT INTO formats (code, name, media_type, openness, proprietary) VALUES
 ('csv',     'CSV',      'text/csv', 3, 0),
 ('json',    'JSON',     'application/json', 3, 0),
 ('xlsx',    'XLSX',     'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 2, 0),
 ('geojson', 'GeoJSON',  'application/geo+json', 3, 0),
 ('parquet', 'Parquet',  'application/vnd.apache.parquet', 3, 0),
 ('api',     'API',      'application/json', 3, 0),
 ('xml',     'XML',      'application/xml', 3, 0),
 ('rdf',     'RDF',      'application/rdf+xml', 4, 0),
 ('pdf',     'PDF',      'application/pdf', 1, 0),
 ('xls',     'XLS',      'application/vnd.ms-excel', 2, 1),
 ('doc',     'DOC',      'application/msword', 1, 1),
 ('shp',     'Shapefile','application/x-esri-shape', 2, 1),
 ('dbf',     'DBF',      'application/x-dbf', 2, 1),
 ('mdb',     'MDB',      'application/x-msaccess', 2, 1);

INSERT INTO glossary (term, explanation_zh, explanation_en) VALUES
 ('GDP',   '国内生产总值', 'Gross domestic product'),
 ('CPI',   '居民消费价格指数', 'Consumer price index'),
 ('AQI',   '空气质量指数', 'Air quality index'),
 ('PM2.5', '细颗粒物（空气动力学当量直径小于等于 2.5 微米的颗粒物）', 'Fine particulate matter'),
 ('PM10',  '可吸入颗粒物', 'Inhalable particulate matter'),
 ('GPS',   '全球定位系统', 'Global Positioning System'),
 ('ID',    '编号、标识码', 'Identifier'),
 ('POI',   '兴趣点（地图上的地点）', 'Point of interest'),
 ('API',   '应用程序接口', 'Application programming interface'),
 ('URL',   '网址', 'Web address'),
 ('WGS84', '世界大地坐标系（经纬度坐标系）', 'World Geodetic System 1984'),
 ('CGCS2000', '2000 国家大地坐标系', 'China Geodetic Coordinate System 2000');

//! The demo's open list: synthetic but plausible entries of the demo providers, a realistic
//! mix of unconditional, conditional and non-open data, with fields linked to catalogue items,
//! conditions, materials, relations, versions and tickets in every state. Deterministic: the
//! same content at every start. All of it is made up.

use std::collections::BTreeMap;

use domain::clock::Timestamp;
use domain::ids::{DatasetId, OrgId, TicketId};
use domain::openlist::classification::Grading;
use domain::openlist::dataset::{
    Contact, DataItem, DatasetMeta, OpenCondition, Relation, RequiredMaterial, SpatialRange,
    TimeRange,
};
use domain::openlist::ticket::{ReturnReason, TicketKind, TicketState};
use domain::openlist::vocab::{
    ConditionKind, DatasetStatus, EntrySource, FieldType, OpenType, RelationKind, UpdateFrequency,
};
use store::catalogue::{self, ImportItem};
use store::datasets::{self, DatasetRecord};
use store::tickets::{self, TicketRecord};
use store::{AuditEvent, WriteTx};

/// How open a subject is, and why (the grading that gives it).
#[derive(Clone, Copy, PartialEq)]
enum Openness {
    Open,
    /// Continuous or real-time access: conditional (A14 (二)).
    Continuous,
    /// Important data: conditional with security conditions.
    Important,
    /// Identifiable personal information: not open (A14 (一)).
    Personal,
}

type Item = (
    &'static str,
    &'static str,
    FieldType,
    &'static str,
    &'static str,
);

struct Subject {
    provider: &'static str,
    code: &'static str,
    domain: &'static str,
    /// The name without place and period, e.g. "公交线路站点".
    name: &'static str,
    summary: &'static str,
    keywords: &'static [&'static str],
    frequency: UpdateFrequency,
    openness: Openness,
    formats: &'static [&'static str],
    items: &'static [Item],
    /// Published for these places (area codes): "shanghai" is the whole city.
    areas: &'static [&'static str],
    /// Also published as closed yearly series for these years.
    years: &'static [i32],
}

/// The English name of each subject, for the English pages and for searching in English.
const ENGLISH: &[(&str, &str)] = &[
    ("BUSLINE", "bus lines"),
    ("BUSSTOP", "bus stop locations"),
    ("BUSGPS", "real-time bus positions"),
    ("PARKING", "public car park spaces"),
    ("TAXI", "taxi operations statistics"),
    ("CARDTXN", "public transport card transactions"),
    ("HOSP", "directory of medical institutions"),
    ("OUTPAT", "monthly outpatient visits"),
    ("VACC", "vaccination clinics"),
    ("EMR", "outpatient visit records"),
    ("AQI", "daily air quality index"),
    ("WATERQ", "surface water quality monitoring"),
    ("EMISSION", "automatic monitoring of key polluters"),
    ("LICENSE", "company registrations"),
    ("FOODLIC", "food business licences"),
    ("SPOTCHECK", "product quality spot checks"),
    ("BIZRISK", "companies with abnormal operations"),
    ("SCHOOL", "directory of primary and secondary schools"),
    ("KINDER", "directory of kindergartens"),
    ("ENROL", "student enrolment records"),
    ("ELDER", "directory of elderly care homes"),
    ("SOCORG", "registered social organizations"),
    ("MARRIAGE", "marriage registration statistics"),
    ("LANDUSE", "regulatory detailed plans: land use"),
    ("LANDSUP", "state-owned construction land supply"),
    ("JOBS", "public job vacancies"),
    ("TRAINING", "vocational training institutions"),
    ("SCENIC", "A-grade tourist attractions"),
    ("VISITORS", "real-time visitor numbers at key attractions"),
    ("LIBRARY", "public library service points"),
    ("PDSTREET", "neighbourhood service centres"),
    ("HPMARKET", "standardized food markets"),
    ("XHGREEN", "parks and green spaces"),
    ("MHGRID", "grid management incident statistics"),
    ("WATERQLT", "tap water quality notices"),
    ("WATERUSE", "water use by zone"),
    ("OUTAGE", "planned power outages"),
    ("CHARGING", "electric vehicle charging points"),
];

/// The English name of subject `code` for the whole city, in `year` if a yearly series.
fn english_name(code: &str, year: Option<i32>) -> String {
    let Some((_, en)) = ENGLISH.iter().find(|(c, _)| *c == code) else {
        return String::new();
    };
    match year {
        Some(y) => format!("Shanghai {en}, {y}"),
        None => format!("Shanghai {en}"),
    }
}

use FieldType::*;
use Openness::*;
use UpdateFrequency::*;

const SUBJECTS: &[Subject] = &[
    Subject {
        provider: "sh-transport",
        code: "BUSLINE",
        domain: "transport",
        name: "公交线路基本信息",
        summary: "全市公交线路的线路名称、起讫站点、首末班时间和票价。",
        keywords: &["公交", "线路", "出行"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "json", "api"],
        items: &[
            (
                "line_name",
                "线路名称",
                Text,
                "",
                "公交线路对外公布的名称。",
            ),
            ("start_stop", "起点站", Text, "", "线路的起点站名称。"),
            ("end_stop", "终点站", Text, "", "线路的终点站名称。"),
            (
                "first_bus",
                "首班时间",
                Text,
                "",
                "首班车发车时间，格式为时:分。",
            ),
            ("fare", "票价", Decimal, "元", "单程全票价。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-transport",
        code: "BUSSTOP",
        domain: "transport",
        name: "公交站点位置",
        summary: "公交站点的名称、所属线路和经纬度坐标。",
        keywords: &["公交", "站点", "地图"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "geojson"],
        items: &[
            ("stop_name", "站点名称", Text, "", "站牌上的站点名称。"),
            ("line_name", "所属线路", Text, "", "经过该站点的线路名称。"),
            (
                "lng",
                "经度",
                Decimal,
                "度",
                "站点位置经度，坐标系为 WGS84。",
            ),
            (
                "lat",
                "纬度",
                Decimal,
                "度",
                "站点位置纬度，坐标系为 WGS84。",
            ),
        ],
        areas: &["shanghai", "pudong", "minhang"],
        years: &[],
    },
    Subject {
        provider: "sh-transport",
        code: "BUSGPS",
        domain: "transport",
        name: "公交车辆实时位置",
        summary: "运营中公交车辆的实时位置、方向和到站信息，通过接口持续提供。",
        keywords: &["公交", "实时", "到站"],
        frequency: RealTime,
        openness: Continuous,
        formats: &["api"],
        items: &[
            (
                "vehicle_no",
                "车辆编号",
                Code,
                "",
                "公交车辆的内部编号，不含车牌信息。",
            ),
            ("line_name", "线路名称", Text, "", "车辆当前运营的线路。"),
            (
                "lng",
                "经度",
                Decimal,
                "度",
                "车辆位置经度，坐标系为 WGS84。",
            ),
            (
                "lat",
                "纬度",
                Decimal,
                "度",
                "车辆位置纬度，坐标系为 WGS84。",
            ),
            (
                "report_time",
                "上报时间",
                DateTime,
                "",
                "定位数据的上报时间。",
            ),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-transport",
        code: "PARKING",
        domain: "transport",
        name: "公共停车场（库）泊位信息",
        summary: "经备案的公共停车场（库）名称、地址、泊位数量和收费标准。",
        keywords: &["停车", "泊位"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            (
                "lot_name",
                "停车场名称",
                Text,
                "",
                "停车场（库）的备案名称。",
            ),
            ("address", "地址", Text, "", "停车场（库）出入口所在地址。"),
            (
                "spaces",
                "泊位数",
                Integer,
                "个",
                "对外开放的小型车泊位数量。",
            ),
            ("price", "收费标准", Text, "", "白天与夜间的收费标准。"),
        ],
        areas: &["shanghai", "pudong", "huangpu", "xuhui"],
        years: &[],
    },
    Subject {
        provider: "sh-transport",
        code: "TAXI",
        domain: "transport",
        name: "出租汽车营运量统计",
        summary: "全市出租汽车的营运车次、载客里程和营收统计。",
        keywords: &["出租车", "统计"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "xlsx"],
        items: &[
            ("month", "统计月份", Date, "", "统计所属月份的第一天。"),
            ("trips", "营运车次", Integer, "车次", "当月完成的载客车次。"),
            (
                "distance",
                "载客里程",
                Decimal,
                "万公里",
                "当月载客行驶里程。",
            ),
        ],
        areas: &["shanghai"],
        years: &[2022, 2023],
    },
    Subject {
        provider: "sh-transport",
        code: "CARDTXN",
        domain: "transport",
        name: "公共交通卡刷卡明细",
        summary: "公共交通卡每次刷卡的卡号、时间和站点，含可识别个人的出行轨迹。",
        keywords: &["交通卡", "刷卡"],
        frequency: Daily,
        openness: Personal,
        formats: &["csv"],
        items: &[
            (
                "card_no",
                "卡号",
                Code,
                "",
                "交通卡卡面号码，可识别持卡人。",
            ),
            ("tap_time", "刷卡时间", DateTime, "", "刷卡发生的时间。"),
            ("station", "站点", Text, "", "刷卡所在的站点或线路。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-health",
        code: "HOSP",
        domain: "health",
        name: "医疗机构名录",
        summary: "经执业登记的医疗机构名称、类别、等级、地址和诊疗科目。",
        keywords: &["医院", "医疗机构"],
        frequency: Quarterly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            (
                "org_name",
                "机构名称",
                Text,
                "",
                "医疗机构执业许可证上的名称。",
            ),
            (
                "category",
                "机构类别",
                Text,
                "",
                "如综合医院、专科医院、社区卫生服务中心。",
            ),
            (
                "grade",
                "机构等级",
                Text,
                "",
                "如三级甲等、二级乙等，未定级的为空。",
            ),
            ("address", "地址", Text, "", "机构执业地址。"),
        ],
        areas: &["shanghai", "pudong", "minhang", "xuhui", "huangpu"],
        years: &[],
    },
    Subject {
        provider: "sh-health",
        code: "OUTPAT",
        domain: "health",
        name: "门诊服务量月度统计",
        summary: "各级医疗机构门急诊人次的月度汇总，已去标识化。",
        keywords: &["门诊", "统计"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "xlsx"],
        items: &[
            ("month", "统计月份", Date, "", "统计所属月份的第一天。"),
            ("level", "机构级别", Text, "", "一级、二级或三级。"),
            (
                "visits",
                "门急诊人次",
                Integer,
                "人次",
                "当月门急诊总人次。",
            ),
        ],
        areas: &["shanghai"],
        years: &[2021, 2022, 2023],
    },
    Subject {
        provider: "sh-health",
        code: "VACC",
        domain: "health",
        name: "预防接种门诊信息",
        summary: "提供预防接种服务的门诊名称、地址、服务时间和可接种疫苗类别。",
        keywords: &["疫苗", "接种"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("clinic", "门诊名称", Text, "", "预防接种门诊的名称。"),
            ("address", "地址", Text, "", "门诊地址。"),
            ("hours", "服务时间", Text, "", "对外服务的日期与时段。"),
        ],
        areas: &["shanghai", "minhang"],
        years: &[],
    },
    Subject {
        provider: "sh-health",
        code: "EMR",
        domain: "health",
        name: "门诊就诊明细记录",
        summary: "门诊就诊的患者身份、诊断和处方明细，涉及个人隐私。",
        keywords: &["就诊", "病历"],
        frequency: Daily,
        openness: Personal,
        formats: &["csv"],
        items: &[
            (
                "patient_id",
                "患者编号",
                Code,
                "",
                "可关联到患者身份的编号。",
            ),
            ("diagnosis", "诊断", Text, "", "医生作出的诊断。"),
            ("visit_time", "就诊时间", DateTime, "", "挂号就诊的时间。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-ecology",
        code: "AQI",
        domain: "environment",
        name: "空气质量指数日报",
        summary: "各国控监测站点的 AQI（空气质量指数）及首要污染物日报。",
        keywords: &["空气质量", "AQI", "环境"],
        frequency: Daily,
        openness: Open,
        formats: &["csv", "json", "api"],
        items: &[
            (
                "station",
                "监测站点",
                Text,
                "",
                "国控空气质量监测站点名称。",
            ),
            ("date", "日期", Date, "", "日报所属日期。"),
            (
                "aqi",
                "空气质量指数",
                Integer,
                "",
                "当日 AQI（空气质量指数）。",
            ),
            (
                "primary",
                "首要污染物",
                Text,
                "",
                "如 PM2.5、臭氧，优良天为空。",
            ),
        ],
        areas: &["shanghai"],
        years: &[2022, 2023],
    },
    Subject {
        provider: "sh-ecology",
        code: "WATERQ",
        domain: "environment",
        name: "地表水水质监测",
        summary: "主要河流、湖泊断面的水质类别和主要指标月度监测结果。",
        keywords: &["水质", "河流"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "xlsx"],
        items: &[
            ("section", "监测断面", Text, "", "监测断面名称。"),
            ("month", "监测月份", Date, "", "监测所属月份。"),
            (
                "class",
                "水质类别",
                Text,
                "",
                "按地表水环境质量标准划分的类别。",
            ),
        ],
        areas: &["shanghai", "qingpu", "songjiang"],
        years: &[],
    },
    Subject {
        provider: "sh-ecology",
        code: "EMISSION",
        domain: "environment",
        name: "重点排污单位自动监测数据",
        summary: "重点排污单位污染物排放的小时级自动监测数据，需持续获取。",
        keywords: &["排污", "自动监测"],
        frequency: Hourly,
        openness: Continuous,
        formats: &["api", "json"],
        items: &[
            ("unit", "排污单位", Text, "", "重点排污单位名称。"),
            ("pollutant", "污染物", Text, "", "监测的污染物名称。"),
            (
                "value",
                "排放浓度",
                Decimal,
                "毫克/立方米",
                "小时均值浓度。",
            ),
            ("hour", "监测时间", DateTime, "", "所属小时的开始时间。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-market",
        code: "LICENSE",
        domain: "market",
        name: "企业登记注册信息",
        summary: "企业名称、统一社会信用代码、登记机关、成立日期和经营状态。",
        keywords: &["企业", "登记", "市场主体"],
        frequency: Daily,
        openness: Open,
        formats: &["csv", "json", "api"],
        items: &[
            ("name", "企业名称", Text, "", "营业执照上的企业名称。"),
            (
                "uscc",
                "统一社会信用代码",
                Code,
                "",
                "18 位统一社会信用代码。",
            ),
            ("founded", "成立日期", Date, "", "企业成立的日期。"),
            ("status", "经营状态", Text, "", "存续、注销或吊销。"),
        ],
        areas: &["shanghai", "pudong", "minhang", "xuhui", "huangpu"],
        years: &[],
    },
    Subject {
        provider: "sh-market",
        code: "FOODLIC",
        domain: "market",
        name: "食品经营许可信息",
        summary: "食品经营许可证的持证主体、经营场所、经营项目和有效期。",
        keywords: &["食品", "许可"],
        frequency: Weekly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("holder", "经营者名称", Text, "", "许可证持有者名称。"),
            ("premises", "经营场所", Text, "", "许可的经营地址。"),
            ("valid_to", "有效期至", Date, "", "许可证有效期截止日期。"),
        ],
        areas: &["shanghai", "pudong"],
        years: &[],
    },
    Subject {
        provider: "sh-market",
        code: "SPOTCHECK",
        domain: "market",
        name: "产品质量监督抽查结果",
        summary: "产品质量监督抽查的产品名称、生产企业、抽查结论和不合格项目。",
        keywords: &["产品质量", "抽查"],
        frequency: Quarterly,
        openness: Open,
        formats: &["csv", "xlsx"],
        items: &[
            ("product", "产品名称", Text, "", "被抽查的产品名称与规格。"),
            ("maker", "生产企业", Text, "", "标称的生产企业名称。"),
            ("result", "抽查结论", Text, "", "合格或不合格。"),
        ],
        areas: &["shanghai"],
        years: &[2022, 2023],
    },
    Subject {
        provider: "sh-market",
        code: "BIZRISK",
        domain: "credit",
        name: "企业经营异常名录",
        summary: "被列入经营异常名录的企业及列入原因、列入日期和决定机关。",
        keywords: &["信用", "经营异常"],
        frequency: Daily,
        openness: Important,
        formats: &["json", "api"],
        items: &[
            ("name", "企业名称", Text, "", "被列入名录的企业。"),
            ("reason", "列入原因", Text, "", "列入经营异常名录的事由。"),
            ("listed_on", "列入日期", Date, "", "作出列入决定的日期。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-education",
        code: "SCHOOL",
        domain: "education",
        name: "中小学校名录",
        summary: "全市中小学校的名称、办学性质、学段、地址和联系电话。",
        keywords: &["学校", "教育"],
        frequency: Yearly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("school", "学校名称", Text, "", "学校全称。"),
            ("kind", "办学性质", Text, "", "公办或民办。"),
            ("stage", "学段", Text, "", "小学、初中、高中或一贯制。"),
            ("address", "地址", Text, "", "学校主校区地址。"),
        ],
        areas: &["shanghai", "pudong", "xuhui", "huangpu", "minhang"],
        years: &[],
    },
    Subject {
        provider: "sh-education",
        code: "KINDER",
        domain: "education",
        name: "幼儿园名录",
        summary: "幼儿园的名称、办园性质、等级、班级数和地址。",
        keywords: &["幼儿园", "学前教育"],
        frequency: Yearly,
        openness: Open,
        formats: &["csv"],
        items: &[
            ("name", "幼儿园名称", Text, "", "幼儿园全称。"),
            ("grade", "办园等级", Text, "", "示范园、一级园、二级园等。"),
            ("classes", "班级数", Integer, "个", "在办班级数量。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-education",
        code: "ENROL",
        domain: "education",
        name: "学生学籍信息",
        summary: "在籍学生的姓名、身份信息和学籍变动记录。",
        keywords: &["学籍"],
        frequency: Daily,
        openness: Personal,
        formats: &["csv"],
        items: &[
            ("student", "学生姓名", Text, "", "学生的姓名。"),
            ("id_no", "身份证件号码", Code, "", "学生的居民身份证号码。"),
            ("change", "学籍变动", Text, "", "转学、休学等变动记录。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-civil-affairs",
        code: "ELDER",
        domain: "civil_affairs",
        name: "养老机构名录",
        summary: "经备案的养老机构名称、床位数、收费标准和服务内容。",
        keywords: &["养老", "床位"],
        frequency: Quarterly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("name", "机构名称", Text, "", "养老机构备案名称。"),
            ("beds", "床位数", Integer, "张", "核定床位数量。"),
            ("fee", "收费标准", Text, "", "每月床位费与护理费区间。"),
            ("address", "地址", Text, "", "机构地址。"),
        ],
        areas: &["shanghai", "pudong", "huangpu", "xuhui", "minhang"],
        years: &[],
    },
    Subject {
        provider: "sh-civil-affairs",
        code: "SOCORG",
        domain: "government",
        name: "社会组织登记信息",
        summary: "社会团体、民办非企业单位和基金会的登记信息。",
        keywords: &["社会组织", "登记"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("name", "组织名称", Text, "", "登记证书上的名称。"),
            (
                "type",
                "组织类型",
                Text,
                "",
                "社会团体、民办非企业单位或基金会。",
            ),
            ("registered", "登记日期", Date, "", "成立登记的日期。"),
        ],
        areas: &["shanghai", "pudong"],
        years: &[],
    },
    Subject {
        provider: "sh-civil-affairs",
        code: "MARRIAGE",
        domain: "civil_affairs",
        name: "婚姻登记统计",
        summary: "结婚登记与离婚登记的年度汇总统计。",
        keywords: &["婚姻", "统计"],
        frequency: Yearly,
        openness: Open,
        formats: &["csv", "xlsx"],
        items: &[
            ("year", "年度", Integer, "年", "统计年度。"),
            (
                "marriages",
                "结婚登记",
                Integer,
                "对",
                "当年办理的结婚登记对数。",
            ),
            (
                "divorces",
                "离婚登记",
                Integer,
                "对",
                "当年办理的离婚登记对数。",
            ),
        ],
        areas: &["shanghai"],
        years: &[2021, 2022],
    },
    Subject {
        provider: "sh-planning",
        code: "LANDUSE",
        domain: "urban",
        name: "控制性详细规划用地",
        summary: "已批控制性详细规划的地块编号、用地性质、容积率和限高，包含较大体量的空间数据。",
        keywords: &["规划", "用地"],
        frequency: Quarterly,
        openness: Important,
        formats: &["geojson", "api"],
        items: &[
            ("parcel", "地块编号", Code, "", "规划地块的编号。"),
            ("use", "用地性质", Text, "", "如居住、商业、工业用地。"),
            ("far", "容积率", Decimal, "", "地块容积率上限。"),
            ("height", "限高", Decimal, "米", "建筑高度上限。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-planning",
        code: "LANDSUP",
        domain: "urban",
        name: "国有建设用地供应结果",
        summary: "国有建设用地出让和划拨的地块位置、面积、用途和成交价格。",
        keywords: &["土地", "出让"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("parcel", "地块名称", Text, "", "出让公告中的地块名称。"),
            ("area", "面积", Decimal, "平方米", "出让宗地面积。"),
            ("price", "成交价", Decimal, "万元", "成交总价。"),
        ],
        areas: &["shanghai"],
        years: &[2022, 2023],
    },
    Subject {
        provider: "sh-hrss",
        code: "JOBS",
        domain: "social_security",
        name: "公共招聘岗位信息",
        summary: "公共就业服务机构发布的招聘岗位、薪资范围和工作地点。",
        keywords: &["招聘", "就业"],
        frequency: Daily,
        openness: Open,
        formats: &["json", "api"],
        items: &[
            ("title", "岗位名称", Text, "", "招聘岗位名称。"),
            ("salary", "薪资范围", Text, "", "月薪范围，单位元。"),
            ("place", "工作地点", Text, "", "工作所在区和街道。"),
        ],
        areas: &["shanghai", "pudong", "minhang"],
        years: &[],
    },
    Subject {
        provider: "sh-hrss",
        code: "TRAINING",
        domain: "social_security",
        name: "职业技能培训机构名录",
        summary: "经认定的职业技能培训机构及其培训项目。",
        keywords: &["培训", "技能"],
        frequency: Quarterly,
        openness: Open,
        formats: &["csv"],
        items: &[
            ("name", "机构名称", Text, "", "培训机构名称。"),
            ("programs", "培训项目", Text, "", "可开展的培训工种与等级。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-culture-tourism",
        code: "SCENIC",
        domain: "tourism",
        name: "A级旅游景区名录",
        summary: "A级旅游景区的名称、等级、地址和开放时间。",
        keywords: &["旅游", "景区"],
        frequency: HalfYearly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("name", "景区名称", Text, "", "景区名称。"),
            ("level", "景区等级", Text, "", "1A 至 5A 级。"),
            ("hours", "开放时间", Text, "", "常规开放时间。"),
        ],
        areas: &["shanghai", "pudong"],
        years: &[],
    },
    Subject {
        provider: "sh-culture-tourism",
        code: "VISITORS",
        domain: "tourism",
        name: "重点景区实时客流",
        summary: "重点景区在园人数和舒适度的实时数据。",
        keywords: &["客流", "实时"],
        frequency: RealTime,
        openness: Continuous,
        formats: &["api"],
        items: &[
            ("scenic", "景区名称", Text, "", "景区名称。"),
            ("visitors", "在园人数", Integer, "人", "当前在园游客人数。"),
            ("comfort", "舒适度", Text, "", "舒适、较舒适、拥挤等。"),
            ("time", "统计时间", DateTime, "", "数据统计时间。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-culture-tourism",
        code: "LIBRARY",
        domain: "education",
        name: "公共图书馆服务点",
        summary: "公共图书馆及其分馆、服务点的地址和开放时间。",
        keywords: &["图书馆", "文化"],
        frequency: HalfYearly,
        openness: Open,
        formats: &["csv", "geojson"],
        items: &[
            ("name", "服务点名称", Text, "", "图书馆或服务点名称。"),
            ("address", "地址", Text, "", "服务点地址。"),
            ("hours", "开放时间", Text, "", "每周开放时段。"),
        ],
        areas: &["shanghai", "pudong", "jingan"],
        years: &[],
    },
    Subject {
        provider: "pudong",
        code: "PDSTREET",
        domain: "government",
        name: "街镇便民服务中心",
        summary: "各街镇社区事务受理服务中心的地址、办理事项和服务时间。",
        keywords: &["便民服务", "街镇"],
        frequency: HalfYearly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("center", "中心名称", Text, "", "社区事务受理服务中心名称。"),
            ("address", "地址", Text, "", "中心地址。"),
            ("services", "可办事项", Text, "", "可受理的主要事项。"),
        ],
        areas: &["pudong"],
        years: &[],
    },
    Subject {
        provider: "huangpu",
        code: "HPMARKET",
        domain: "market",
        name: "标准化菜市场",
        summary: "标准化菜市场的名称、地址、营业时间和摊位数。",
        keywords: &["菜市场", "民生"],
        frequency: HalfYearly,
        openness: Open,
        formats: &["csv"],
        items: &[
            ("market", "菜市场名称", Text, "", "菜市场名称。"),
            ("address", "地址", Text, "", "菜市场地址。"),
            ("stalls", "摊位数", Integer, "个", "经营摊位数量。"),
        ],
        areas: &["huangpu"],
        years: &[],
    },
    Subject {
        provider: "xuhui",
        code: "XHGREEN",
        domain: "environment",
        name: "公园绿地",
        summary: "公园和公共绿地的名称、面积、地址和开放时间。",
        keywords: &["公园", "绿地"],
        frequency: Yearly,
        openness: Open,
        formats: &["csv", "geojson"],
        items: &[
            ("park", "公园名称", Text, "", "公园或绿地名称。"),
            ("area", "面积", Decimal, "公顷", "绿地面积。"),
            ("hours", "开放时间", Text, "", "开放时间。"),
        ],
        areas: &["xuhui"],
        years: &[],
    },
    Subject {
        provider: "minhang",
        code: "MHGRID",
        domain: "public_safety",
        name: "网格化管理事件统计",
        summary: "城市运行网格化管理发现、处置事件的月度分类统计。",
        keywords: &["网格化", "城市管理"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "xlsx"],
        items: &[
            ("month", "统计月份", Date, "", "统计所属月份。"),
            ("category", "事件类别", Text, "", "市容环境、设施设备等。"),
            ("cases", "事件数", Integer, "件", "当月发现的事件数量。"),
        ],
        areas: &["minhang"],
        years: &[2023],
    },
    Subject {
        provider: "sh-water",
        code: "WATERQLT",
        domain: "environment",
        name: "供水水质公告",
        summary: "出厂水和管网水的水质检测指标与合格率。",
        keywords: &["供水", "水质"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv", "json"],
        items: &[
            ("plant", "水厂", Text, "", "自来水厂名称。"),
            ("indicator", "检测指标", Text, "", "浊度、余氯等。"),
            (
                "value",
                "检测值",
                Decimal,
                "",
                "检测结果数值，单位见指标说明。",
            ),
            ("pass_rate", "合格率", Decimal, "%", "当月检测合格率。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-water",
        code: "WATERUSE",
        domain: "urban",
        name: "分区用水量统计",
        summary: "按区汇总的居民和非居民月度用水量。",
        keywords: &["用水量", "统计"],
        frequency: Monthly,
        openness: Open,
        formats: &["csv"],
        items: &[
            ("district", "区", Text, "", "所属行政区。"),
            ("month", "统计月份", Date, "", "统计所属月份。"),
            ("volume", "用水量", Decimal, "万立方米", "当月总用水量。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-power",
        code: "OUTAGE",
        domain: "urban",
        name: "计划停电公告",
        summary: "计划检修停电的区域、时间和影响范围。",
        keywords: &["停电", "电力"],
        frequency: Daily,
        openness: Open,
        formats: &["json", "api"],
        items: &[
            ("area", "停电区域", Text, "", "受影响的道路和小区。"),
            ("start", "开始时间", DateTime, "", "计划停电开始时间。"),
            ("end", "结束时间", DateTime, "", "计划恢复供电时间。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
    Subject {
        provider: "sh-power",
        code: "CHARGING",
        domain: "urban",
        name: "电动汽车充电桩",
        summary: "公共充电桩的位置、功率、接口类型和实时可用状态。",
        keywords: &["充电桩", "新能源汽车"],
        frequency: RealTime,
        openness: Continuous,
        formats: &["api", "json"],
        items: &[
            ("station", "充电站", Text, "", "充电站名称。"),
            ("power", "额定功率", Decimal, "千瓦", "单桩额定功率。"),
            ("connector", "接口类型", Text, "", "交流慢充或直流快充。"),
            ("status", "可用状态", Text, "", "空闲、占用或故障。"),
        ],
        areas: &["shanghai"],
        years: &[],
    },
];

const DAY_MS: i64 = 86_400_000;

/// The fields of a subject, each linked to the catalogue item `link` gives for its name.
fn data_items(s: &Subject, link: impl Fn(&str) -> Option<String>) -> Vec<DataItem> {
    s.items
        .iter()
        .map(|(name, label, field_type, unit, description)| DataItem {
            name: (*name).to_owned(),
            label: (*label).to_owned(),
            field_type: *field_type,
            unit: (*unit).to_owned(),
            description: (*description).to_owned(),
            catalogue_item: link(name),
            rules: Default::default(),
        })
        .collect()
}

fn grading(o: Openness) -> Grading {
    let mut g: Grading = [
        ("security_level", "general"),
        ("personal_information", "none"),
        ("trade_secret", "none"),
        ("legal_restriction", "none"),
        ("processing_demand", "ordinary"),
        ("access_pattern", "one_off"),
    ]
    .iter()
    .map(|(d, l)| (d.to_string(), l.to_string()))
    .collect();
    match o {
        Open => {}
        Continuous => {
            g.insert("access_pattern".into(), "continuous".into());
        }
        Important => {
            g.insert("security_level".into(), "important".into());
        }
        Personal => {
            g.insert("personal_information".into(), "identifiable".into());
        }
    }
    g
}

fn open_type(o: Openness) -> OpenType {
    match o {
        Open => OpenType::Unconditional,
        Continuous | Important => OpenType::Conditional,
        Personal => OpenType::NotOpen,
    }
}

fn conditions(o: Openness) -> (Vec<OpenCondition>, Vec<RequiredMaterial>) {
    let c = |kind, text: &str| OpenCondition {
        kind,
        text: text.to_owned(),
    };
    let m = |name: &str, description: &str| RequiredMaterial {
        name: name.to_owned(),
        description: description.to_owned(),
    };
    match o {
        Continuous => (
            vec![
                c(
                    ConditionKind::Scenario,
                    "仅限用于公共出行服务、城市运行研究等协议约定的场景，不得转售原始数据。",
                ),
                c(
                    ConditionKind::TechnicalCapability,
                    "具备通过接口持续获取、存储和更新数据的技术能力。",
                ),
                c(
                    ConditionKind::FeedbackDuty,
                    "每季度提交数据利用报告，利用成果注明数据来源。",
                ),
                c(
                    ConditionKind::Credit,
                    "未被列入失信被执行人名单和严重违法失信名单。",
                ),
            ],
            vec![
                m("应用场景说明", "说明拟开发的应用、服务对象和使用的数据项。"),
                m("数据安全管理制度", "本单位的数据安全管理制度和安全负责人。"),
                m("主体资格证明", "营业执照或统一社会信用代码证明。"),
            ],
        ),
        Important => (
            vec![
                c(
                    ConditionKind::SecurityCapability,
                    "具备与重要数据相适应的安全防护能力，通过数据安全成熟度评估。",
                ),
                c(
                    ConditionKind::Scenario,
                    "仅限协议约定的场景使用，不得向第三方提供。",
                ),
                c(
                    ConditionKind::FeedbackDuty,
                    "接受定期和不定期抽查，按要求提交数据利用报告。",
                ),
            ],
            vec![
                m("应用场景说明", "说明数据用途、处理方式和成果形式。"),
                m("数据安全能力证明", "数据安全成熟度评估或等级保护测评结论。"),
            ],
        ),
        Open | Personal => (Vec::new(), Vec::new()),
    }
}

/// One entry to seed: its metadata, status, and (for yearly series) the entry it continues.
struct Seeded {
    id: DatasetId,
    org: OrgId,
    meta: DatasetMeta,
    status: DatasetStatus,
}

/// Where a subject's data comes from (A10.3): the outpatient statistics are aggregated from
/// records that are not open, after de-identification (A12.1); the spot-check results were
/// already disclosed; the rest come from the providers' information systems.
fn source(s: &Subject) -> (EntrySource, &'static str) {
    match s.code {
        "OUTPAT" => (
            EntrySource::Deidentified,
            "由门诊就诊明细汇总：去除患者身份信息，按医疗机构和月份统计，\
             经分级分类复核为一般数据后开放。",
        ),
        "SPOTCHECK" => (
            EntrySource::Disclosure,
            "已通过政府信息公开渠道发布的抽查结果公告。",
        ),
        _ => (EntrySource::InformationSystem, ""),
    }
}

fn place_name(area: &str) -> &'static str {
    domain::openlist::vocab::area(area)
        .map(|(_, zh, _)| zh)
        .unwrap_or("上海市")
}

fn build(orgs: &BTreeMap<&str, OrgId>, catalogue_ids: &BTreeMap<String, String>) -> Vec<Seeded> {
    let mut out = Vec::new();
    for s in SUBJECTS {
        let org = orgs[s.provider];
        let (conds, materials) = conditions(s.openness);
        let items = data_items(s, |name| {
            catalogue_ids
                .get(&format!(
                    "{}:{}-{}",
                    s.provider,
                    s.code,
                    name.to_uppercase()
                ))
                .cloned()
        });
        let base =
            |name: String, areas: Vec<String>, time_range: TimeRange, frequency| DatasetMeta {
                name,
                summary: s.summary.to_owned(),
                name_en: String::new(),
                summary_en: String::new(),
                domain: s.domain.to_owned(),
                keywords: s.keywords.iter().map(|k| (*k).to_owned()).collect(),
                data_items: items.clone(),
                formats: s.formats.iter().map(|f| (*f).to_owned()).collect(),
                open_type: open_type(s.openness),
                grading: grading(s.openness),
                conditions: conds.clone(),
                materials: materials.clone(),
                update_frequency: frequency,
                time_range,
                spatial: SpatialRange {
                    areas,
                    note: String::new(),
                },
                relations: Vec::new(),
                contact: Contact {
                    name: "数据开放工作联系人（虚构）".to_owned(),
                    phone: "021-5550-0000".to_owned(),
                    email: format!("open-data@{}.example", s.provider),
                },
                license: "上海市公共数据开放平台数据使用协议".to_owned(),
                source: source(s).0,
                source_note: source(s).1.to_owned(),
            };
        let mut city_id = None;
        for area in s.areas {
            let id = DatasetId::new();
            if *area == "shanghai" {
                city_id = Some(id);
            }
            let name = format!("{}{}", place_name(area), s.name);
            let mut meta = base(
                name,
                vec![(*area).to_owned()],
                TimeRange::default(),
                s.frequency,
            );
            if *area == "shanghai" {
                meta.name_en = english_name(s.code, None);
            }
            out.push(Seeded {
                id,
                org,
                meta,
                status: DatasetStatus::Published,
            });
        }
        // Closed yearly series, kept open as static data (A10.2), each continuing the city entry.
        for year in s.years {
            let range = TimeRange {
                start: chrono::NaiveDate::from_ymd_opt(*year, 1, 1),
                end: chrono::NaiveDate::from_ymd_opt(*year, 12, 31),
            };
            let mut meta = base(
                format!("{year}年上海市{}", s.name),
                vec!["shanghai".to_owned()],
                range,
                UpdateFrequency::Static,
            );
            meta.name_en = english_name(s.code, Some(*year));
            if let Some(city) = city_id {
                meta.relations.push(Relation {
                    kind: RelationKind::TimeSeriesContinuation,
                    dataset: city.to_string(),
                    note: format!("{year} 年的历史数据，后续年份见现行数据集。"),
                });
            }
            out.push(Seeded {
                id: DatasetId::new(),
                org,
                meta,
                status: DatasetStatus::Static,
            });
        }
    }
    // Relations between subjects that share a join key: stops and lines, hospitals and visits.
    let pairs = [
        (
            "上海市公交站点位置",
            "上海市公交线路基本信息",
            RelationKind::SpatialJoinKey,
            "以线路名称关联。",
        ),
        (
            "上海市公交车辆实时位置",
            "上海市公交线路基本信息",
            RelationKind::SameSubject,
            "同一线路的车辆动态。",
        ),
        (
            "上海市门诊服务量月度统计",
            "上海市门诊就诊明细记录",
            RelationKind::DerivedFrom,
            "由就诊明细去标识化汇总而来。",
        ),
        (
            "上海市空气质量指数日报",
            "上海市重点排污单位自动监测数据",
            RelationKind::SameSubject,
            "大气环境相关数据。",
        ),
    ];
    for (from, to, kind, note) in pairs {
        let to_id = out
            .iter()
            .find(|d| d.meta.name == to)
            .map(|d| d.id.to_string());
        if let (Some(to_id), Some(d)) = (to_id, out.iter_mut().find(|d| d.meta.name == from)) {
            d.meta.relations.push(Relation {
                kind,
                dataset: to_id,
                note: note.to_owned(),
            });
        }
    }
    out
}

fn seed_event(
    at: Timestamp,
    action: &'static str,
    target_type: &'static str,
    target_id: String,
) -> AuditEvent {
    AuditEvent::system(at, "system", action, target_type, target_id)
}

/// Seeds catalogues, entries and tickets. `editor` and `operator` are the demo accounts that
/// the tickets' history names.
pub async fn seed(
    tx: &mut WriteTx,
    orgs: &BTreeMap<&str, OrgId>,
    editor: &str,
    operator: &str,
    now: Timestamp,
) -> anyhow::Result<usize> {
    // Catalogue items: one per field of each subject, in its provider's catalogue.
    let mut catalogue_ids = BTreeMap::new();
    for s in SUBJECTS {
        let items: Vec<ImportItem> = s
            .items
            .iter()
            .map(|(name, label, _, _, description)| ImportItem {
                code: format!("{}-{}", s.code, name.to_uppercase()),
                name: format!("{}：{}", s.name, label),
                description: (*description).to_owned(),
                source_system: format!("{}业务系统（虚构）", s.name),
                row_version: None,
            })
            .collect();
        catalogue::import(tx, orgs[s.provider], &items, now).await?;
    }
    // Data the transport commission keeps but has not opened (A12.1): its catalogue shows these
    // as unopened, to be prepared into an entry once de-identified.
    let unopened: Vec<ImportItem> = [
        (
            "BUS_GPS-PLATE",
            "公交车辆定位：车牌号",
            "车辆号牌，开放前须脱敏处理。",
        ),
        (
            "BUS_GPS-POSITION",
            "公交车辆定位：经纬度",
            "车载终端每 10 秒上报的位置。",
        ),
        (
            "BUS_GPS-DRIVER_ID",
            "公交车辆定位：驾驶员工号",
            "属于个人信息，开放前须去除。",
        ),
    ]
    .into_iter()
    .map(|(code, name, description)| ImportItem {
        code: code.to_owned(),
        name: name.to_owned(),
        description: description.to_owned(),
        source_system: "公交智能调度系统（虚构）".to_owned(),
        row_version: None,
    })
    .collect();
    catalogue::import(tx, orgs["sh-transport"], &unopened, now).await?;
    for (key, id) in catalogue_rows(tx).await? {
        catalogue_ids.insert(key, id);
    }

    let seeded = build(orgs, &catalogue_ids);
    let (guide_version,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM classification_guides")
        .fetch_one(tx.conn())
        .await?;
    // The parking entry was changed once through a ticket: its first version lacked the
    // explanation of the fee field that the accepted ticket added.
    const PARKING: &str = "上海市公共停车场（库）泊位信息";
    let parking_ticket = TicketId::new();
    let parking_changed = Timestamp(now.0 - 30 * DAY_MS);
    for (i, s) in seeded.iter().enumerate() {
        let created = Timestamp(now.0 - (400 - i as i64) * DAY_MS);
        let updated = Timestamp(now.0 - (i as i64 % 90) * DAY_MS);
        let changed_once = s.meta.name == PARKING;
        let record = DatasetRecord {
            id: s.id,
            org_id: s.org,
            status: s.status,
            meta: s.meta.clone(),
            guide_version,
            published_version: Some(if changed_once { 2 } else { 1 }),
            created_at: created,
            updated_at: updated,
            // Most were reviewed this year; every seventh is due for its annual review (A10.1).
            last_reviewed_at: (i % 7 != 0).then_some(Timestamp(now.0 - 60 * DAY_MS)),
            row_version: 1,
            data: None,
        };
        datasets::insert(tx, &record).await?;
        if changed_once {
            let mut first = record.clone();
            first.published_version = Some(1);
            for item in first.meta.data_items.iter_mut() {
                if item.name == "price" {
                    item.description = "收费标准。".to_owned();
                }
            }
            datasets::record_version(tx, &first, None, created).await?;
            let ticket = parking_ticket.to_string();
            datasets::record_version(tx, &record, Some(&ticket), parking_changed).await?;
        } else {
            datasets::record_version(tx, &record, None, created).await?;
        }
        tx.audit(seed_event(
            now,
            "demo.dataset_create",
            "dataset",
            record.id.to_string(),
        ))
        .await?;
    }

    // Tickets in each state, and a couple of drafts being prepared.
    let transport = orgs["sh-transport"];
    let draft = |name: &str| {
        let mut meta = seeded
            .iter()
            .find(|d| d.meta.name == "上海市公交站点位置")
            .expect("seeded")
            .meta
            .clone();
        meta.name = name.to_owned();
        meta.relations.clear();
        meta
    };
    let drafts = [
        draft("上海市轨道交通站点出入口"),
        draft("上海市出租汽车扬招点"),
    ];
    let mut draft_ids = Vec::new();
    for (i, meta) in drafts.iter().enumerate() {
        let record = DatasetRecord {
            id: DatasetId::new(),
            org_id: transport,
            status: DatasetStatus::Draft,
            meta: meta.clone(),
            guide_version,
            published_version: None,
            created_at: Timestamp(now.0 - (3 - i as i64) * DAY_MS),
            updated_at: Timestamp(now.0 - (3 - i as i64) * DAY_MS),
            last_reviewed_at: None,
            row_version: 1,
            data: None,
        };
        datasets::insert(tx, &record).await?;
        tx.audit(seed_event(
            now,
            "demo.dataset_create",
            "dataset",
            record.id.to_string(),
        ))
        .await?;
        draft_ids.push(record);
    }
    let by_name = |name: &str| {
        seeded
            .iter()
            .find(|d| d.meta.name == name)
            .expect("seeded entry")
    };
    let mut add_ticket = async |id: TicketId,
                                dataset: DatasetId,
                                org: OrgId,
                                kind: TicketKind,
                                state: TicketState,
                                proposed: Option<DatasetMeta>,
                                base: Option<i64>,
                                reason: &str,
                                history: &[(&str, &str, &[ReturnReason], &str)],
                                day: i64|
           -> anyhow::Result<()> {
        let at = Timestamp(now.0 - day * DAY_MS);
        let t = TicketRecord {
            id,
            dataset_id: dataset,
            org_id: org,
            kind,
            state,
            proposed,
            base_version: base,
            reason: reason.to_owned(),
            created_by: editor.to_owned(),
            created_at: at,
            updated_at: at,
        };
        tickets::insert(tx, &t).await?;
        for (actor, event, reasons, text) in history {
            tickets::add_event(tx, t.id, at, actor, event, reasons, text).await?;
        }
        tx.audit(seed_event(
            now,
            "demo.ticket_create",
            "ticket",
            t.id.to_string(),
        ))
        .await?;
        Ok(())
    };
    // Submitted: a new entry waiting for the operator.
    add_ticket(
        TicketId::new(),
        draft_ids[0].id,
        transport,
        TicketKind::Add,
        TicketState::Submitted,
        Some(draft_ids[0].meta.clone()),
        None,
        "地铁站出入口是市民出行的高频需求，新增开放。",
        &[(
            editor,
            "submitted",
            &[],
            "地铁站出入口是市民出行的高频需求，新增开放。",
        )],
        2,
    )
    .await?;
    // Returned: the operator asked for more.
    add_ticket(
        TicketId::new(),
        draft_ids[1].id,
        transport,
        TicketKind::Add,
        TicketState::Returned,
        Some(draft_ids[1].meta.clone()),
        None,
        "新增出租汽车扬招点。",
        &[
            (editor, "submitted", &[], "新增出租汽车扬招点。"),
            (
                operator,
                "returned",
                &[ReturnReason::IncompleteInformation],
                "请补充扬招点的设置依据和更新方式说明。",
            ),
        ],
        5,
    )
    .await?;
    // Accepted: a modification already applied.
    let parking = by_name(PARKING);
    add_ticket(
        parking_ticket,
        parking.id,
        parking.org,
        TicketKind::Modify,
        TicketState::Accepted,
        Some(parking.meta.clone()),
        Some(1),
        "补充收费标准字段的说明。",
        &[
            (editor, "submitted", &[], "补充收费标准字段的说明。"),
            (operator, "accepted", &[], "同意。"),
        ],
        30,
    )
    .await?;
    // Cancelled: withdrawn by the provider before review.
    let taxi = by_name("上海市出租汽车营运量统计");
    add_ticket(
        TicketId::new(),
        taxi.id,
        taxi.org,
        TicketKind::Remove,
        TicketState::Cancelled,
        None,
        Some(1),
        "拟调整统计口径。",
        &[
            (editor, "submitted", &[], "拟调整统计口径。"),
            (editor, "cancelled", &[], ""),
        ],
        45,
    )
    .await?;
    Ok(seeded.len() + drafts.len())
}

async fn catalogue_rows(tx: &mut WriteTx) -> anyhow::Result<Vec<(String, String)>> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT o.slug, c.code, c.id FROM catalogue_items c JOIN organizations o ON o.id = c.org_id",
    )
    .fetch_all(tx.conn())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(slug, code, id)| (format!("{slug}:{code}"), id))
        .collect())
}

/// `count` synthetic published entries for benchmarks, spread over the demo's subjects,
/// places and providers, written in batches of one transaction each. Returns how many.
pub async fn generate(store: &store::Store, count: usize, now: Timestamp) -> anyhow::Result<usize> {
    let orgs: BTreeMap<String, OrgId> = store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| (o.slug, o.id))
        .collect();
    let (guide_version,): (i64,) = sqlx::query_as("SELECT MAX(version) FROM classification_guides")
        .fetch_one(store.pool())
        .await?;
    let places: Vec<&str> = domain::openlist::vocab::SHANGHAI_AREAS
        .iter()
        .map(|(code, _, _)| *code)
        .collect();
    let mut written = 0;
    while written < count {
        let mut tx = store.begin_write().await?;
        let batch = (count - written).min(2000);
        for i in written..written + batch {
            let s = &SUBJECTS[i % SUBJECTS.len()];
            let Some(&org) = orgs.get(s.provider) else {
                anyhow::bail!("run `kaifang demo` on this data dir first")
            };
            let place = places[(i / SUBJECTS.len()) % places.len()];
            let serial = i / (SUBJECTS.len() * places.len());
            let (conds, materials) = conditions(s.openness);
            let meta = DatasetMeta {
                name: format!("{}{}（批次 {serial}）", place_name(place), s.name),
                summary: s.summary.to_owned(),
                name_en: String::new(),
                summary_en: String::new(),
                domain: s.domain.to_owned(),
                keywords: s.keywords.iter().map(|k| (*k).to_owned()).collect(),
                data_items: data_items(s, |_| None),
                formats: s.formats.iter().map(|f| (*f).to_owned()).collect(),
                open_type: open_type(s.openness),
                grading: grading(s.openness),
                conditions: conds,
                materials,
                update_frequency: s.frequency,
                time_range: TimeRange::default(),
                spatial: SpatialRange {
                    areas: vec![place.to_owned()],
                    note: String::new(),
                },
                relations: Vec::new(),
                contact: Contact {
                    name: "数据开放工作联系人（虚构）".into(),
                    phone: "021-5550-0000".into(),
                    email: String::new(),
                },
                license: "上海市公共数据开放平台数据使用协议".into(),
                source: source(s).0,
                source_note: source(s).1.to_owned(),
            };
            let at = Timestamp(now.0 - (i as i64 % 1000) * 60_000);
            let record = DatasetRecord {
                id: DatasetId::new(),
                org_id: org,
                status: DatasetStatus::Published,
                meta,
                guide_version,
                published_version: Some(1),
                created_at: at,
                updated_at: at,
                last_reviewed_at: Some(at),
                row_version: 1,
                data: None,
            };
            datasets::insert(&mut tx, &record).await?;
        }
        tx.audit(AuditEvent::system(
            now,
            "cli",
            "generate.datasets",
            "open_list",
            format!("{written}+{batch}"),
        ))
        .await?;
        tx.commit().await?;
        written += batch;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use domain::openlist::checks::{FormatRule, PublishContext, Vocabularies, publish_problems};
    use domain::openlist::classification::Guide;
    use domain::openlist::text::Segmenter;

    use super::*;

    /// Every seeded entry passes the same checks the platform applies before publishing: the
    /// demo shows the open list as the rules want it.
    #[test]
    fn every_demo_entry_would_pass_the_publish_checks() {
        let orgs: BTreeMap<&str, OrgId> = SUBJECTS
            .iter()
            .map(|s| (s.provider, OrgId::new()))
            .collect();
        let catalogue: BTreeMap<String, String> = SUBJECTS
            .iter()
            .flat_map(|s| {
                s.items
                    .iter()
                    .map(move |(n, ..)| format!("{}:{}-{}", s.provider, s.code, n.to_uppercase()))
            })
            .map(|k| (k.clone(), k))
            .collect();
        let seeded = build(&orgs, &catalogue);
        assert!(seeded.len() >= 80, "{} entries", seeded.len());
        let kinds: BTreeSet<OpenType> = seeded.iter().map(|s| s.meta.open_type).collect();
        assert_eq!(kinds.len(), 3);

        let vocab = Vocabularies {
            domains: SUBJECTS.iter().map(|s| s.domain.to_owned()).collect(),
            formats: ["csv", "json", "xlsx", "geojson", "api"]
                .iter()
                .map(|f| (f.to_string(), FormatRule { proprietary: false }))
                .collect(),
            glossary: ["AQI", "WGS84", "PM2.5"]
                .iter()
                .map(|t| t.to_string())
                .collect(),
        };
        let guide = Guide::default_guide();
        let segmenter = Segmenter::new();
        let ids: BTreeSet<String> = seeded.iter().map(|s| s.id.to_string()).collect();
        for s in &seeded {
            let others: Vec<(String, String)> = seeded
                .iter()
                .filter(|o| o.id != s.id)
                .map(|o| (o.id.to_string(), o.meta.name.clone()))
                .collect();
            let cx = PublishContext {
                vocab: &vocab,
                guide: &guide,
                segmenter: &segmenter,
                others: &others,
                similarity_threshold: 0.8,
                known_datasets: &|id| ids.contains(id),
                catalogue_items: &|c| catalogue.contains_key(c),
                format_exceptions: &BTreeSet::new(),
            };
            let problems = publish_problems(&s.meta, &cx);
            assert!(problems.is_empty(), "{}: {problems:?}", s.meta.name);
        }
    }
}

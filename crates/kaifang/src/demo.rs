//! Deterministic synthetic content for `kaifang demo`: a Shanghai-like platform with provider
//! organizations and one account for every role. Everything here is made up.

use domain::clock::Timestamp;
use domain::identifiers::UnifiedSocialCreditCode;
use domain::ids::{OrgId, UserId};
use domain::roles::{AccountKind, OrgKind, OrgRole, PlatformRole};
use store::orgs::OrgRecord;
use store::users::{NewUser, UserRecord};
use store::{AuditEvent, Store, orgs, users};

/// The password of every demo account. The demo is synthetic and local; this is not a secret.
pub const DEMO_PASSWORD: &str = "kaifang-demo-2026";

/// (slug, Chinese name, English name, kind)
const ORGS: &[(&str, &str, &str, OrgKind)] = &[
    (
        "sh-bigdata-center",
        "上海市大数据中心",
        "Shanghai Big Data Center",
        OrgKind::Operator,
    ),
    (
        "sh-transport",
        "上海市交通委员会",
        "Shanghai Municipal Transportation Commission",
        OrgKind::Bureau,
    ),
    (
        "sh-health",
        "上海市卫生健康委员会",
        "Shanghai Municipal Health Commission",
        OrgKind::Bureau,
    ),
    (
        "sh-ecology",
        "上海市生态环境局",
        "Shanghai Municipal Bureau of Ecology and Environment",
        OrgKind::Bureau,
    ),
    (
        "sh-market",
        "上海市市场监督管理局",
        "Shanghai Administration for Market Regulation",
        OrgKind::Bureau,
    ),
    (
        "sh-education",
        "上海市教育委员会",
        "Shanghai Municipal Education Commission",
        OrgKind::Bureau,
    ),
    (
        "sh-civil-affairs",
        "上海市民政局",
        "Shanghai Civil Affairs Bureau",
        OrgKind::Bureau,
    ),
    (
        "sh-planning",
        "上海市规划和自然资源局",
        "Shanghai Planning and Natural Resources Bureau",
        OrgKind::Bureau,
    ),
    (
        "sh-hrss",
        "上海市人力资源和社会保障局",
        "Shanghai Human Resources and Social Security Bureau",
        OrgKind::Bureau,
    ),
    (
        "sh-culture-tourism",
        "上海市文化和旅游局",
        "Shanghai Culture and Tourism Bureau",
        OrgKind::Bureau,
    ),
    (
        "pudong",
        "浦东新区人民政府",
        "Pudong New Area Government",
        OrgKind::District,
    ),
    (
        "huangpu",
        "黄浦区人民政府",
        "Huangpu District Government",
        OrgKind::District,
    ),
    (
        "xuhui",
        "徐汇区人民政府",
        "Xuhui District Government",
        OrgKind::District,
    ),
    (
        "minhang",
        "闵行区人民政府",
        "Minhang District Government",
        OrgKind::District,
    ),
    (
        "sh-water",
        "上海示范供水有限公司（虚构）",
        "Shanghai Demo Water Supply Co. (fictional)",
        OrgKind::Utility,
    ),
    (
        "sh-power",
        "上海示范电力有限公司（虚构）",
        "Shanghai Demo Power Co. (fictional)",
        OrgKind::Utility,
    ),
];

pub struct DemoAccount {
    pub email: &'static str,
    pub role: &'static str,
}

/// A demo account: e-mail, display name, platform role, organization membership.
type AccountSpec = (
    &'static str,
    &'static str,
    Option<PlatformRole>,
    Option<(&'static str, OrgRole)>,
);

const ACCOUNTS: &[AccountSpec] = &[
    (
        "operator@demo.kaifang.example",
        "运营人员（演示）",
        Some(PlatformRole::Operator),
        Some(("sh-bigdata-center", OrgRole::ProviderAdmin)),
    ),
    (
        "regulator@demo.kaifang.example",
        "主管部门人员（演示）",
        Some(PlatformRole::Regulator),
        None,
    ),
    (
        "security@demo.kaifang.example",
        "安全监管人员（演示）",
        Some(PlatformRole::SecurityAuditor),
        None,
    ),
    (
        "sysadmin@demo.kaifang.example",
        "系统管理员（演示）",
        Some(PlatformRole::Sysadmin),
        None,
    ),
    (
        "expert@demo.kaifang.example",
        "评审专家（演示）",
        Some(PlatformRole::Expert),
        None,
    ),
    (
        "expert2@demo.kaifang.example",
        "数据安全专家（演示）",
        Some(PlatformRole::Expert),
        None,
    ),
    (
        "transport-admin@demo.kaifang.example",
        "交通委管理员（演示）",
        None,
        Some(("sh-transport", OrgRole::ProviderAdmin)),
    ),
    (
        "transport-editor@demo.kaifang.example",
        "交通委编辑（演示）",
        None,
        Some(("sh-transport", OrgRole::Editor)),
    ),
    (
        "transport-reviewer@demo.kaifang.example",
        "交通委审核员（演示）",
        None,
        Some(("sh-transport", OrgRole::Reviewer)),
    ),
    (
        "pudong-admin@demo.kaifang.example",
        "浦东新区管理员（演示）",
        None,
        Some(("pudong", OrgRole::ProviderAdmin)),
    ),
    (
        "resident@demo.kaifang.example",
        "市民张三（演示）",
        None,
        None,
    ),
    (
        "company@demo.kaifang.example",
        "示范科技联系人（演示）",
        None,
        None,
    ),
];

pub fn accounts() -> Vec<DemoAccount> {
    ACCOUNTS
        .iter()
        .map(|(email, _, platform, org)| DemoAccount {
            email,
            role: match (platform, org) {
                (Some(r), _) => r.as_str(),
                (None, Some((_, r))) => r.as_str(),
                (None, None) if email.starts_with("company") => "user (organization)",
                (None, None) => "user (natural person)",
            },
        })
        .collect()
}

/// A made-up but well-formed unified social credit code for the demo company.
fn demo_uscc() -> String {
    let body = "91310000DEMO0001K".replace('O', "0");
    let check =
        UnifiedSocialCreditCode::check_character(&body).expect("demo code uses the charset");
    format!("{body}{check}")
}

/// Seeds the demo content once; a data dir that already has organizations is left alone.
pub async fn seed(store: &Store, password_hash: &str, now: Timestamp) -> anyhow::Result<bool> {
    if !store.list_orgs().await?.is_empty() {
        return Ok(false);
    }
    let mut tx = store.begin_write().await?;
    let event = |action, target_type, target_id: String| {
        AuditEvent::system(now, "system", action, target_type, target_id)
    };
    let mut org_ids = std::collections::BTreeMap::new();
    let mut user_ids: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
    for (i, (slug, zh, en, kind)) in ORGS.iter().enumerate() {
        let org = OrgRecord {
            id: OrgId::new(),
            slug: (*slug).to_owned(),
            name_zh: (*zh).to_owned(),
            name_en: (*en).to_owned(),
            kind: *kind,
            uscc: None,
            created_at: now.plus_seconds(i as i64),
        };
        orgs::insert(&mut tx, &org).await?;
        tx.audit(event("demo.org_create", "organization", org.id.to_string()))
            .await?;
        org_ids.insert(*slug, org.id);
    }
    for (i, (email, name, platform, membership)) in ACCOUNTS.iter().enumerate() {
        let company = email.starts_with("company");
        let user = UserRecord {
            id: UserId::new(),
            email: (*email).to_owned(),
            display_name: (*name).to_owned(),
            kind: if company {
                AccountKind::Organization
            } else {
                AccountKind::NaturalPerson
            },
            legal_name: company.then(|| "上海示范数据科技有限公司（虚构）".to_owned()),
            uscc: company.then(demo_uscc),
            created_at: now.plus_seconds(100 + i as i64),
        };
        users::insert(
            &mut tx,
            NewUser {
                record: &user,
                password_hash,
            },
        )
        .await?;
        if let Some(role) = platform {
            users::grant_platform_role(&mut tx, user.id, *role, now).await?;
        }
        if let Some((slug, role)) = membership {
            orgs::set_member(&mut tx, org_ids[slug], user.id, *role, now).await?;
        }
        tx.audit(event("demo.user_create", "user", user.id.to_string()))
            .await?;
        user_ids.insert(*email, user.id.to_string());
    }
    crate::demo_openlist::seed(
        &mut tx,
        &org_ids,
        &user_ids["transport-editor@demo.kaifang.example"],
        &user_ids["operator@demo.kaifang.example"],
        now,
    )
    .await?;
    let operator = &user_ids["operator@demo.kaifang.example"];
    for (i, (kind, title, body, site_page)) in ARTICLES.iter().enumerate() {
        let at = now.plus_seconds(-86_400 * (i as i64 + 1));
        let article = store::articles::ArticleRecord {
            id: domain::ids::ArticleId::new(),
            kind: *kind,
            status: domain::articles::ArticleStatus::Published,
            title: (*title).to_owned(),
            body: (*body).to_owned(),
            published_at: Some(at),
            created_by: operator.clone(),
            created_at: at,
            updated_at: at,
            row_version: 1,
            site_page: *site_page,
        };
        store::articles::insert(&mut tx, &article).await?;
        tx.audit(event(
            "demo.article_create",
            "article",
            article.id.to_string(),
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Policies, rules and news of the demo (A25.4): synthetic texts, newest first.
/// (kind, title, Markdown body, the site page it stands for).
type DemoArticle = (
    domain::articles::ArticleKind,
    &'static str,
    &'static str,
    Option<domain::articles::SitePage>,
);

const ARTICLES: &[DemoArticle] = &[
    (
        domain::articles::ArticleKind::News,
        "演示平台上线：欢迎试用公共数据开放平台",
        "本演示平台中的机构、账号和数据均为虚构，仅用于体验开放清单、数据检索和有条件开放申请等功能。\n\n\
         - 在[数据目录](/datasets)中按领域、开放类型和数据提供方查找数据集；\n\
         - 数据集页面列出全部数据项、开放条件和引用格式。",
        None,
    ),
    (
        domain::articles::ArticleKind::Rule,
        "平台数据使用协议（演示）",
        "## 一、适用范围\n\n本协议适用于通过本平台获取的无条件开放数据。\n\n\
         ## 二、使用要求\n\n使用者应当在成果中注明数据来源，不得以数据开放主体的名义发布成果。",
        Some(domain::articles::SitePage::Terms),
    ),
    (
        domain::articles::ArticleKind::Policy,
        "《上海市公共数据开放实施细则》要点（演示解读）",
        "细则明确了公共数据开放清单的编制、分级分类、有条件开放的申请与审核流程，\
         以及数据利用的反馈和安全管理要求。\n\n\
         开放清单中的数据分为**无条件开放**、**有条件开放**和**非开放**三类。",
        None,
    ),
];

#[cfg(test)]
mod tests {
    /// Issue 10: the seeded articles' indentation made their lists and headings code blocks.
    #[test]
    fn demo_articles_render_as_written_not_as_code() {
        for (_, title, body, _) in super::ARTICLES {
            let html = web::articles::render_markdown(body);
            assert!(
                !html.contains("<pre>") && !html.contains("<code>"),
                "{title}: {html}"
            );
        }
        let html = |i: usize| web::articles::render_markdown(super::ARTICLES[i].2);
        assert_eq!(html(0).matches("<li>").count(), 2, "{}", html(0));
        assert_eq!(html(1).matches("<h2>").count(), 2, "{}", html(1));
    }

    #[test]
    fn demo_uscc_is_valid() {
        assert!(
            super::demo_uscc()
                .parse::<domain::identifiers::UnifiedSocialCreditCode>()
                .is_ok()
        );
    }
}

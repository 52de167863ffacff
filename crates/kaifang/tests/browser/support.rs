use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "kaifang-demo-2026";

/// A `kaifang demo` process with its own temporary data, and its address.
pub struct Demo {
    pub url: String,
    _child: Child,
}

impl Demo {
    pub async fn start() -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kaifang"))
            .args(["demo", "--listen", "127.0.0.1:0"])
            .env_remove("KAIFANG_CONFIG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start kaifang demo");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut url = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(rest) = line.split("running at ").nth(1) {
                url = Some(rest.trim().to_owned());
            }
            if line.contains("Ctrl-C") {
                break;
            }
        }
        // Keep reading what the demo prints, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let demo = Demo {
            url: url.expect("the demo prints its address"),
            _child: child,
        };
        // reqwest's TLS (built for `kaifang publish`) needs a crypto provider before a client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        // The search index catches up with the demo's entries just after the start.
        for _ in 0..200 {
            let answer = reqwest::get(demo.at("/api/v1/datasets?per_page=1")).await;
            if let Ok(res) = answer
                && let Ok(body) = res.json::<serde_json::Value>().await
                && body["count"].as_u64().unwrap_or(0) > 0
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        demo
    }

    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }
}

/// A headless Chromium session, and the chromedriver that drives it.
pub struct Browser {
    pub client: Client,
    _driver: Child,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Opens a browser that asks for pages in `lang` (an Accept-Language value).
    pub async fn open(lang: &str) -> Self {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: install Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver), as scripts/test.sh does"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start chromedriver");
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1000", format!("--lang={lang}")],
                "prefs": { "intl.accept_languages": lang },
            }),
        );
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .expect("TLS roots")
                .capabilities(caps.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Browser {
                        client,
                        _driver: driver,
                    };
                }
                Err(e) => last_error = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start a session: {last_error:?}");
    }

    /// Types `text` into the field with the id `id`, after what it holds already.
    pub async fn fill(&self, id: &str, text: &str) {
        let field = self.client.find(Locator::Id(id)).await;
        let field = field.unwrap_or_else(|e| panic!("no field #{id}: {e}"));
        field.send_keys(text).await.unwrap();
    }

    pub async fn value_of(&self, id: &str) -> String {
        let field = self.client.find(Locator::Id(id)).await.unwrap();
        field.prop("value").await.unwrap().unwrap_or_default()
    }

    pub async fn click(&self, locator: Locator<'_>) {
        let element = self.client.find(locator).await;
        let element = element.unwrap_or_else(|e| panic!("{locator:?} not found: {e}"));
        element.click().await.unwrap();
    }

    /// Clicks what `locator` finds, then waits until the browser has left the page it was on
    /// for one at `path`: a click that follows a link or sends a form returns before the next
    /// page has loaded.
    pub async fn click_to(&self, locator: Locator<'_>, path: &str) {
        let before = self.client.current_url().await.unwrap();
        self.click(locator).await;
        for _ in 0..200 {
            if let Ok(url) = self.client.current_url().await
                && url != before
                && url.path() == path
                && self.ready().await
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let at = self.client.current_url().await.map(|u| u.to_string());
        panic!("the browser did not go on to {path}; it is at {at:?}");
    }

    async fn ready(&self) -> bool {
        let state = self
            .client
            .execute("return document.readyState", vec![])
            .await;
        matches!(state, Ok(serde_json::Value::String(s)) if s == "complete")
    }

    /// Waits for an element a page shows after a form was sent to the same address.
    pub async fn find_soon(&self, locator: Locator<'_>) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(locator)
            .await
            .unwrap_or_else(|e| panic!("{locator:?} did not appear: {e}"))
    }

    /// The text of `css` if the page shows it now (a page may be half-way to the next one).
    pub async fn text_now(&self, css: &str) -> Option<String> {
        let element = self.client.find(Locator::Css(css)).await.ok()?;
        element.text().await.ok()
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} not found: {e}"))
            .text()
            .await
            .unwrap()
    }

    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Saves a screenshot of the page as `build-output/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = screenshots_dir().join(format!("{name}.png"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}

fn screenshots_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build-output/screenshots")
}

/// The axe-core script the test command fetched (see scripts/test.sh).
fn axe_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../build-output/axe/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "{} is missing: scripts/test.sh fetches it (npm pack axe-core@4.14.1)",
            path.display()
        )
    })
}

impl Browser {
    /// The WCAG 2.1 A and AA rules axe-core finds broken on the current page, with the places.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        self.client
            .execute(&axe_source(), vec![])
            .await
            .expect("load axe-core");
        let script = r#"
            const done = arguments[arguments.length - 1];
            axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } })
              .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))))
              .catch(e => done(['axe failed: ' + e]));
        "#;
        let found = self
            .client
            .execute_async(script, vec![])
            .await
            .expect("run axe-core");
        serde_json::from_value(found).unwrap_or_default()
    }

    /// Text drawn in a chart smaller than 12 px as shown (the SVG scales with its box).
    pub async fn small_chart_text(&self) -> Option<String> {
        let script = r#"
            for (const svg of document.querySelectorAll('figure.chart svg')) {
              const box = svg.getBoundingClientRect();
              if (box.width === 0) continue;
              const scale = box.width / svg.viewBox.baseVal.width;
              for (const t of svg.querySelectorAll('text')) {
                const size = parseFloat(t.getAttribute('font-size') || getComputedStyle(t).fontSize) * scale;
                if (size < 12) return t.textContent.trim() + ' at ' + size.toFixed(1) + 'px';
              }
            }
            return null;
        "#;
        let found = self
            .client
            .execute(script, vec![])
            .await
            .expect("measure the charts");
        found.as_str().map(str::to_owned)
    }

    /// Whether the page is wider than the window (WCAG 1.4.10: content reflows instead of
    /// needing a horizontal scroll; a wide table may scroll inside its own box). Names the
    /// widest elements that stick out when it is.
    pub async fn horizontal_overflow(&self) -> Option<String> {
        let script = r#"
            const w = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= w + 1) return null;
            const out = [...document.querySelectorAll('body *')]
              .filter(e => e.getBoundingClientRect().right > w + 1)
              .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))
              .slice(0, 5);
            return document.documentElement.scrollWidth + 'px wide in ' + w + 'px: ' + out.join(', ');
        "#;
        let found = self
            .client
            .execute(script, vec![])
            .await
            .expect("measure the page");
        found.as_str().map(str::to_owned)
    }
}

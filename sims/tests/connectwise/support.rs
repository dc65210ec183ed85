//! Helpers for the ConnectWise simulator tests: a started simulator plus an HTTP client.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use synthesize_sims::RunningServer;
use synthesize_sims::connectwise::{ConnectWiseSim, CwTenant};

pub struct Cw {
    pub sim: ConnectWiseSim,
    pub server: RunningServer,
    pub http: reqwest::Client,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn ids(&self) -> Vec<i64> {
        self.body
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {}", self.body))
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    /// `Link` as (rel, url) pairs, parsed by `<…>` brackets (never split on commas).
    pub fn links(&self) -> Vec<(String, String)> {
        let raw = self.header("link").expect("Link header present");
        let mut out = Vec::new();
        let mut rest = raw.as_str();
        while let Some(start) = rest.find('<') {
            let end = rest[start..].find('>').unwrap() + start;
            let url = rest[start + 1..end].to_string();
            let after = &rest[end + 1..];
            let rel_at = after.find("rel=\"").unwrap() + 5;
            let rel_end = after[rel_at..].find('"').unwrap() + rel_at;
            out.push((after[rel_at..rel_end].to_string(), url));
            rest = &after[rel_end..];
        }
        out
    }

    pub fn link(&self, rel: &str) -> Option<String> {
        self.links()
            .into_iter()
            .find(|(r, _)| r == rel)
            .map(|(_, u)| u)
    }
}

impl Cw {
    pub async fn start(tenant: CwTenant) -> Self {
        let sim = ConnectWiseSim::new(tenant);
        let server = sim.start().await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Cw { sim, server, http }
    }

    pub async fn sample() -> Self {
        Self::start(CwTenant::sample()).await
    }

    pub fn api(&self, path: &str) -> String {
        format!(
            "{}/{}apis/3.0{path}",
            self.server.base_url(),
            self.sim.codebase()
        )
    }

    pub fn authed(&self, url: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, url)
    }

    /// A request with good credentials and clientId.
    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        let c = self.sim.credentials();
        self.http
            .request(method, url)
            .basic_auth(
                format!("{}+{}", c.company_id, c.public_key),
                Some(c.private_key),
            )
            .header("clientId", c.client_id)
    }

    pub async fn send(rb: reqwest::RequestBuilder) -> Answer {
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text:?}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    /// GET `path` (raw, as given) with good credentials.
    pub async fn get(&self, path: &str) -> Answer {
        Self::send(self.authed(&self.api(path))).await
    }

    /// GET `path` with form-encoded query parameters.
    pub async fn query(&self, path: &str, q: &[(&str, &str)]) -> Answer {
        Self::send(self.authed(&self.api(path)).query(q)).await
    }

    pub async fn contacts_where(&self, conditions: &str) -> Answer {
        self.query(
            "/company/contacts",
            &[("conditions", conditions), ("pageSize", "1000")],
        )
        .await
    }

    pub async fn configs_where(&self, conditions: &str) -> Vec<i64> {
        let a = self
            .query(
                "/company/configurations",
                &[("conditions", conditions), ("pageSize", "1000")],
            )
            .await;
        assert_eq!(a.status, 200, "{conditions}: {}", a.body);
        a.ids()
    }

    pub async fn child_ids(&self, child: &str) -> Vec<i64> {
        let q = [("childConditions", child), ("pageSize", "1000")];
        let a = self.query("/company/contacts", &q).await;
        assert_eq!(a.status, 200, "{child}: {}", a.body);
        a.ids()
    }

    pub async fn contact_ids(&self, conditions: &str) -> Vec<i64> {
        let a = self.contacts_where(conditions).await;
        assert_eq!(a.status, 200, "{conditions}: {}", a.body);
        a.ids()
    }
}

pub fn ids_where<T>(items: &[T], id: impl Fn(&T) -> i64, keep: impl Fn(&T) -> bool) -> Vec<i64> {
    let mut v: Vec<i64> = items.iter().filter(|i| keep(i)).map(id).collect();
    v.sort();
    v
}

//! Helpers for the Autotask simulator tests: a started simulator plus an HTTP client.

use reqwest::header::HeaderMap;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use synthesize_sims::RunningServer;
use synthesize_sims::autotask::{AtConfigurationItem, AtTenant, AutotaskSim};

pub struct At {
    pub sim: AutotaskSim,
    pub server: RunningServer,
    pub http: reqwest::Client,
}

#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// Ids of `items` (query) in order.
    pub fn ids(&self) -> Vec<i64> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("no items: {}", self.body))
            .iter()
            .map(|v| v["id"].as_i64().unwrap())
            .collect()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    /// The first message of an `{"errors":[…]}` body.
    pub fn error(&self) -> String {
        self.body["errors"][0]
            .as_str()
            .unwrap_or_else(|| panic!("no errors[0]: {}", self.body))
            .to_string()
    }

    pub fn next_url(&self) -> Option<String> {
        self.body["pageDetails"]["nextPageUrl"]
            .as_str()
            .map(str::to_string)
    }
}

impl At {
    pub async fn start(tenant: AtTenant) -> Self {
        let sim = AutotaskSim::new(tenant);
        let server = sim.start().await.unwrap();
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        At { sim, server, http }
    }

    pub async fn sample() -> Self {
        Self::start(AtTenant::sample()).await
    }

    /// The zone base, as zoneInformation reports it (ends in `/`).
    pub fn base(&self) -> String {
        format!("{}/ATServicesRest/", self.server.base_url())
    }

    /// `<base>V1.0/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}V1.0/{path}", self.base())
    }

    /// Adds the three auth headers.
    pub fn auth(&self, rb: RequestBuilder) -> RequestBuilder {
        let c = self.sim.credentials();
        rb.header("ApiIntegrationCode", c.integration_code)
            .header("UserName", c.username)
            .header("Secret", c.secret)
    }

    pub async fn send(rb: RequestBuilder) -> Answer {
        let r = rb.send().await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        Self::send(self.auth(self.http.get(self.url(path)))).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        Self::send(self.auth(self.http.post(self.url(path)).json(body))).await
    }

    /// POSTs to an absolute URL (a `nextPageUrl`).
    pub async fn post_abs(&self, url: &str, body: &Value) -> Answer {
        Self::send(self.auth(self.http.post(url).json(body))).await
    }

    pub async fn get_abs(&self, url: &str) -> Answer {
        Self::send(self.auth(self.http.get(url))).await
    }

    /// `POST <Entity>/query` with `{"filter": filter}`.
    pub async fn query(&self, entity: &str, filter: Value) -> Answer {
        self.post(&format!("{entity}/query"), &json!({ "filter": filter }))
            .await
    }

    /// Every id of a POST query, following `nextPageUrl` with the same body; also returns
    /// the number of pages.
    pub async fn all_ids(&self, entity: &str, body: &Value) -> (Vec<i64>, usize) {
        let mut a = self.post(&format!("{entity}/query"), body).await;
        let mut ids = Vec::new();
        let mut pages = 0;
        loop {
            assert_eq!(a.status, 200, "{}", a.body);
            ids.extend(a.ids());
            pages += 1;
            match a.next_url() {
                Some(next) => a = self.post_abs(&next, body).await,
                None => return (ids, pages),
            }
        }
    }

    /// Ids of the configuration items matching `f`, sorted (what a query should return).
    pub fn ci_ids(&self, f: impl Fn(&AtConfigurationItem) -> bool) -> Vec<i64> {
        let mut ids: Vec<i64> = self
            .sim
            .tenant()
            .configuration_items
            .iter()
            .filter(|i| f(i))
            .map(|i| i.id)
            .collect();
        ids.sort();
        ids
    }
}

/// The `paging` parameter of a next-page URL, decoded.
pub fn paging_of(url: &str) -> Value {
    let url = reqwest::Url::parse(url).unwrap();
    let raw = url
        .query_pairs()
        .find(|(k, _)| k == "paging")
        .map(|(_, v)| v.into_owned())
        .expect("paging parameter");
    serde_json::from_str(&raw).unwrap()
}

/// The "everything" sentinel filter clients send (§3.3).
pub fn everything() -> Value {
    json!([{"op": "gte", "field": "id", "value": 0}])
}

//! `clients` (docs/contract.md §1, §5): the ConnectWise companies served, with their industry
//! (from the market) and primary contact. Needs only the ConnectWise settings.

use serde::Serialize;

use crate::config::{self, Env};
use crate::engagement::read::{self, Filters};
use crate::engagement::{Client, ClientsReport, IndustryMap, clients_csv};
use crate::error::{Error, Result};
use crate::report::Render;
use crate::sources::connectwise::{ConnectWiseClient, config as cw_config};
use crate::text::{column_width, pad};

/// The `clients` report: exactly contract §5's document in JSON.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct ClientsOutput(pub ClientsReport);

/// `CONNECTWISE_INDUSTRY_MAP` added to the built-in markets (exit 2 when malformed).
pub(crate) fn industry_map(env: &Env) -> Result<IndustryMap> {
    match env.get("CONNECTWISE_INDUSTRY_MAP") {
        Some(s) => IndustryMap::parse(&s).map_err(|e| Error::Usage(e.0)),
        None => Ok(IndustryMap::builtin()),
    }
}

/// The ConnectWise client of the two engagement verbs: only the ConnectWise settings.
pub(crate) fn connectwise(env: &Env) -> Result<ConnectWiseClient> {
    let settings = cw_config::resolve(env)?;
    let http = config::http(env)?;
    ConnectWiseClient::new(&settings, &http)
}

/// Lists the companies `filters` selects, sorted by name, with their primary contacts.
pub async fn clients(env: &Env, filters: &Filters) -> Result<ClientsOutput> {
    let map = industry_map(env)?;
    let mut cw = connectwise(env)?;
    let companies = read::companies(&mut cw, filters).await?;
    let mut contacts = read::primary_contacts(&mut cw, &companies).await?;
    let mut clients: Vec<Client> = companies
        .into_iter()
        .map(|c| Client {
            industry: map.industry(c.market.as_deref()),
            primary_contact: contacts.remove(&c.id),
            company_id: c.id,
            identifier: c.identifier,
            name: c.name,
            status: c.status,
            types: c.types,
            market: c.market,
        })
        .collect();
    clients.sort_by(|a, b| {
        (a.name.to_lowercase(), &a.company_id).cmp(&(b.name.to_lowercase(), &b.company_id))
    });
    tracing::debug!("clients: {} ConnectWise requests", cw.request_count());
    Ok(ClientsOutput(ClientsReport { clients }))
}

impl Render for ClientsOutput {
    fn text(&self) -> String {
        let rows: Vec<[String; 6]> = self
            .0
            .clients
            .iter()
            .map(|c| {
                let contact = c
                    .primary_contact
                    .as_ref()
                    .map(|p| match &p.email {
                        Some(e) => format!("{} <{e}>", p.name),
                        None => p.name.clone(),
                    })
                    .unwrap_or_else(|| "—".into());
                [
                    c.company_id.clone(),
                    c.identifier.clone(),
                    c.name.clone(),
                    c.market.clone().unwrap_or_else(|| "—".into()),
                    c.industry.name().to_string(),
                    contact,
                ]
            })
            .collect();
        let headers = [
            "ID",
            "IDENTIFIER",
            "NAME",
            "MARKET",
            "INDUSTRY",
            "PRIMARY CONTACT",
        ];
        // The last column is not padded, so it is never cut: an e-mail address stays whole.
        let widths: Vec<usize> = (0..6)
            .map(|i| {
                let max = if i == 5 { usize::MAX } else { 40 };
                column_width(rows.iter().map(|r| r[i].as_str()), headers[i], max)
            })
            .collect();
        let line = |cells: [&str; 6]| {
            let mut s = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| pad(c, *w))
                .collect::<Vec<_>>()
                .join("  ");
            s.truncate(s.trim_end().len());
            s.push('\n');
            s
        };
        let mut out = line(headers);
        for r in &rows {
            out.push_str(&line([&r[0], &r[1], &r[2], &r[3], &r[4], &r[5]]));
        }
        let n = self.0.clients.len();
        let without = self
            .0
            .clients
            .iter()
            .filter(|c| c.primary_contact.is_none())
            .count();
        out.push_str(&format!(
            "\n{n} client compan{}; {without} without a primary contact\n",
            if n == 1 { "y" } else { "ies" }
        ));
        out
    }

    fn csv(&self) -> Option<String> {
        Some(clients_csv(&self.0))
    }
}

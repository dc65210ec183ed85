//! The built-in sandbox: simulated Gradient, ConnectWise and Autotask APIs with a sample
//! MSP, served in-process on loopback (the `sandbox` cargo feature). `demo` runs every
//! source's lifecycle against it; `sandbox` serves it in the foreground so each verb can be
//! tried by hand.

use std::net::SocketAddr;

use synthesize_sims::RunningServer;
use synthesize_sims::autotask::{AtTenant, AutotaskSim};
use synthesize_sims::connectwise::{ConnectWiseSim, CwTenant};
use synthesize_sims::crewhu::{CrewhuSim, CrewhuTenant};
use synthesize_sims::gradient::GradientSim;

use crate::config::{Env, OutputFormat};
use crate::error::{Error, Result, Side};
use crate::report::{Output, print_stdout};
use crate::sources::{self, SourceKind};

/// The ports of the sandbox's simulators (0 picks a free one).
#[derive(Debug, Clone, Copy, Default)]
pub struct Ports {
    pub gradient: u16,
    pub connectwise: u16,
    pub autotask: u16,
}

const VENDOR_KEY: &str = "sandbox-vendor-key";

/// One Synthesize integration (partner key) per source, as an MSP would set them up:
/// ConnectWise and Autotask company ids could collide in one integration.
fn partner_key(kind: SourceKind) -> String {
    format!("sandbox-partner-{}", kind.name())
}

fn partner_name(kind: SourceKind) -> String {
    let what = match kind.name() {
        "connectwise-contacts" => "contacts",
        "connectwise-shared-devices" => "licences",
        _ => "devices",
    };
    format!("Northwind IT Services ({what})")
}

/// The three simulators, running.
pub struct Sandbox {
    pub gradient: GradientSim,
    pub connectwise: ConnectWiseSim,
    pub autotask: AutotaskSim,
    /// CSAT surveys for `engagement`, matching the ConnectWise sample's tickets.
    pub crewhu: CrewhuSim,
    servers: [RunningServer; 4],
    /// The sandbox's own run ledger: runs against it never mix with real ones.
    pub state_dir: std::path::PathBuf,
}

impl Sandbox {
    /// Starts the simulators on `127.0.0.1` at the given ports (0 picks a free one).
    pub async fn start(
        gradient_port: u16,
        connectwise_port: u16,
        autotask_port: u16,
    ) -> Result<Self> {
        let gradient = GradientSim::new(VENDOR_KEY, &partner_key(sources::SOURCES[0]));
        for &kind in sources::all() {
            gradient.add_partner(&partner_key(kind), &partner_name(kind));
        }
        // Tickets, time and agreements dated relative to now, so `engagement` always has a
        // recent window to score.
        let now = crate::ledger::now();
        let connectwise = ConnectWiseSim::new(CwTenant::sample_at(now));
        let autotask = AutotaskSim::new(AtTenant::sample());
        let crewhu = CrewhuSim::new(CrewhuTenant::sample_at(now));
        let servers = [
            bind(gradient.router(), gradient_port, "--gradient-port").await?,
            bind(connectwise.router(), connectwise_port, "--connectwise-port").await?,
            bind(autotask.router(), autotask_port, "--autotask-port").await?,
            bind(crewhu.router(), 0, "--crewhu-port").await?,
        ];
        let state_dir = std::env::temp_dir().join(format!(
            "synthesize-sync-sandbox-{}-{}",
            std::process::id(),
            servers[0].addr.port()
        ));
        let _ = std::fs::remove_dir_all(&state_dir);
        Ok(Self {
            gradient,
            connectwise,
            autotask,
            crewhu,
            servers,
            state_dir,
        })
    }

    /// Every setting a source needs to talk to the sandbox.
    pub fn env(&self, kind: SourceKind) -> Vec<(String, String)> {
        let mut v: Vec<(&str, String)> = vec![
            ("SYNC_SOURCE", kind.name().to_string()),
            ("SYNC_STATE_DIR", self.state_dir.display().to_string()),
            ("GRADIENT_BASE_URL", self.servers[0].base_url()),
            ("GRADIENT_VENDOR_API_KEY", VENDOR_KEY.to_string()),
            ("GRADIENT_PARTNER_API_KEY", partner_key(kind)),
        ];
        if kind.psa() == Side::ConnectWise {
            let c = self.connectwise.credentials();
            v.extend([
                ("CONNECTWISE_BASE_URL", self.servers[1].base_url()),
                ("CONNECTWISE_COMPANY_ID", c.company_id),
                ("CONNECTWISE_PUBLIC_KEY", c.public_key),
                ("CONNECTWISE_PRIVATE_KEY", c.private_key),
                ("CONNECTWISE_CLIENT_ID", c.client_id),
            ]);
            if kind.name() == "connectwise-contacts" {
                v.push(("CONNECTWISE_CONTACT_TYPES", "Billed User,VIP".to_string()));
            }
            // For `clients` and `engagement`: CSAT from the simulated CrewHu.
            v.extend([
                (
                    "CREWHU_BASE_URL",
                    format!("{}/api/", self.servers[3].base_url()),
                ),
                ("CREWHU_API_TOKEN", self.crewhu.token()),
            ]);
        } else {
            let c = self.autotask.credentials();
            v.extend([
                ("AUTOTASK_USERNAME", c.username),
                ("AUTOTASK_SECRET", c.secret),
                ("AUTOTASK_INTEGRATION_CODE", c.integration_code),
                (
                    "AUTOTASK_DISCOVERY_URL",
                    format!("{}/ATServicesRest/", self.servers[2].base_url()),
                ),
            ]);
        }
        v.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }

    /// The settings of a source, as a run would read them.
    pub fn settings(&self, kind: SourceKind) -> Env {
        Env::from_pairs(self.env(kind))
    }

    /// For the demo's second run of `connectwise-contacts`: a client's contacts change in
    /// ConnectWise (two leave, one joins). Says what changed; `None` for the other sources.
    pub fn change_something(&self, kind: SourceKind) -> Option<String> {
        if kind.name() != "connectwise-contacts" {
            return None;
        }
        let mut said = None;
        self.connectwise.update_tenant(|t| {
            let company = t
                .contacts
                .iter()
                .filter(|c| !c.inactive_flag)
                .filter_map(|c| c.company.as_ref().map(|co| co.id))
                .max_by_key(|id| {
                    t.contacts
                        .iter()
                        .filter(|c| {
                            !c.inactive_flag && c.company.as_ref().map(|co| co.id) == Some(*id)
                        })
                        .count()
                });
            let Some(company) = company else { return };
            let mut left = Vec::new();
            for c in t
                .contacts
                .iter_mut()
                .filter(|c| !c.inactive_flag && c.company.as_ref().map(|co| co.id) == Some(company))
            {
                if left.len() < 2 {
                    c.inactive_flag = true;
                    left.push(c.id);
                }
            }
            if let Some(template) = t.contacts.iter().find(|c| left.contains(&c.id)).cloned() {
                let mut joined = template;
                joined.id = t.contacts.iter().map(|c| c.id).max().unwrap_or(0) + 1;
                joined.first_name = "New".into();
                joined.inactive_flag = false;
                t.contacts.push(joined);
            }
            let name = t
                .companies
                .iter()
                .find(|c| c.id == company)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            said = Some(format!(
                "in ConnectWise, two of {name}'s contacts are made inactive and one is added; \
                 the next run compares with the last"
            ));
        });
        said
    }

    /// The partner maps every service and all accounts but about one in five, as a partner
    /// part-way through mapping would. Returns the accounts left unmapped.
    pub fn partner_maps(&self, kind: SourceKind) -> Vec<String> {
        let mut unmapped = Vec::new();
        self.gradient
            .update_partner_by_key(&partner_key(kind), |p| {
                p.mapped_services = p.skus.iter().map(|s| s.id.clone()).collect();
                for (i, id) in p.accounts.keys().enumerate() {
                    if i % 5 == 3 {
                        unmapped.push(id.clone());
                    } else {
                        p.mapped_accounts.insert(id.clone());
                    }
                }
            });
        unmapped
    }

    pub async fn stop(self) {
        for s in self.servers {
            s.stop().await;
        }
    }
}

async fn bind(router: axum::Router, port: u16, flag: &str) -> Result<RunningServer> {
    synthesize_sims::serve(router, SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .map_err(|e| {
            Error::Local(format!(
                "cannot listen on 127.0.0.1:{port} ({e}); pick another port with {flag} (0 picks a free one)"
            ))
        })
}

/// Ctrl-C, or (on Unix) SIGTERM from a service manager or `kill`.
async fn stop_signal() -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r,
            _ = term.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await
}

/// Quotes a value for a `.env` line: bare when safe, else single quotes (literal: no `$`
/// expansion), else double quotes with escapes.
pub fn dotenv_quote(value: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "-_./:@+".contains(c);
    if !value.is_empty() && value.chars().all(safe) {
        value.to_string()
    } else if !value.contains('\'') {
        format!("'{value}'")
    } else {
        let escaped = value
            .replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('$', "\\$");
        format!("\"{escaped}\"")
    }
}

/// The sandbox's control address: `POST /change/contact` adds a Billed User at a ConnectWise
/// client, `POST /change/ticket` a ticket resolved within the hour, so registered callbacks fire
/// and `listen` can be watched at work (docs/contract.md §6). Loopback only, like the sandbox.
fn control_router(connectwise: ConnectWiseSim) -> axum::Router {
    use axum::routing::post;
    // Contoso Ltd. in the sample: a client with Billed Users and tickets.
    const COMPANY: i64 = 288;
    let cw_contact = connectwise.clone();
    let cw_ticket = connectwise;
    axum::Router::new()
        .route(
            "/change/contact",
            post(move || async move {
                match cw_contact.add_billed_user(COMPANY) {
                    Some(id) => format!(
                        "added Billed User contact {id} at company {COMPANY} in the simulated ConnectWise\n"
                    ),
                    None => "the sample has no such company\n".to_string(),
                }
            }),
        )
        .route(
            "/change/ticket",
            post(move || async move {
                let now = crate::ledger::now();
                let company = cw_ticket.tenant().company(COMPANY).cloned();
                let ticket = synthesize_sims::connectwise::CwTicket::build(
                    0,
                    company.as_ref(),
                    "Printer offline (sandbox change)",
                    now - 1_800,
                    Some(now - 600),
                    None,
                );
                let id = cw_ticket.add_ticket(ticket);
                format!("added ticket {id} at company {COMPANY} in the simulated ConnectWise\n")
            }),
        )
}

/// `sandbox`: serve until Ctrl-C, after printing the settings to paste.
pub async fn serve(ports: Ports, out: &Output) -> Result<()> {
    let sandbox = Sandbox::start(ports.gradient, ports.connectwise, ports.autotask).await?;
    let control = bind(
        control_router(sandbox.connectwise.clone()),
        0,
        "--control-port",
    )
    .await?;
    // The sandbox partner maps what gets created, except one account per source, so both
    // "set" and "unmapped" results show up.
    let unmapped_cw = sandbox
        .connectwise
        .tenant()
        .companies
        .iter()
        .map(|c| c.id.to_string())
        .next_back();
    let unmapped_at = sandbox
        .autotask
        .tenant()
        .companies
        .iter()
        .map(|c| c.id.to_string())
        .next_back();
    sandbox
        .gradient
        .set_auto_map(unmapped_cw.into_iter().chain(unmapped_at));

    let blocks: Vec<(SourceKind, Vec<(String, String)>)> = sources::all()
        .iter()
        .map(|k| (*k, sandbox.env(*k)))
        .collect();
    match out.format {
        OutputFormat::Json => {
            let v: serde_json::Value = blocks
                .iter()
                .map(|(k, env)| {
                    (
                        k.name().to_string(),
                        serde_json::Value::Object(
                            env.iter()
                                .map(|(n, v)| (n.clone(), serde_json::Value::String(v.clone())))
                                .collect(),
                        ),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into();
            print_stdout(&format!(
                "{}\n",
                serde_json::json!({ "sandbox": v, "control": control.base_url() })
            ));
        }
        OutputFormat::Text | OutputFormat::Csv | OutputFormat::Html => {
            let mut text = String::from(
                "Sandbox running: simulated Gradient, ConnectWise and Autotask APIs with a sample MSP.\n\
                 Save one block below as sandbox.env, then try each verb, e.g.\n\
                 \n    synthesize-sync --env-file sandbox.env authenticate\n    \
                 synthesize-sync --env-file sandbox.env run --dry-run\n\
                 \nThe sandbox partner maps new accounts and services at once, except one account.\n\
                 Stop with Ctrl-C.\n\n",
            );
            text.push_str(&format!(
                "To watch callbacks at work (connectwise-contacts block): run\n\
                 \n    synthesize-sync --env-file sandbox.env callbacks register --url http://127.0.0.1:8787/connectwise/callback\n    \
                 synthesize-sync --env-file sandbox.env listen --addr 127.0.0.1:8787 --debounce 3\n\
                 \n(another free port works too: change it in both). Control address: {0}\n\
                 Change ConnectWise data: curl -X POST {0}/change/contact (a Billed User) or\n\
                 curl -X POST {0}/change/ticket (a ticket); the count, or the engagement snapshot, follows.\n\n",
                control.base_url()
            ));
            for (kind, env) in &blocks {
                text.push_str(&format!("# --- {kind} ---\n"));
                for (k, v) in env {
                    text.push_str(&format!("{k}={}\n", dotenv_quote(v)));
                }
                text.push('\n');
            }
            print_stdout(&text);
        }
    }
    stop_signal()
        .await
        .map_err(|e| Error::Local(format!("cannot wait for Ctrl-C: {e}")))?;
    eprintln!("stopping the sandbox");
    control.stop().await;
    let state_dir = sandbox.state_dir.clone();
    sandbox.stop().await;
    // The sandbox's own run ledger goes with it, as the demo's does.
    let _ = std::fs::remove_dir_all(state_dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::dotenv_quote;
    use crate::config::Env;

    #[test]
    fn quoted_values_read_back_unchanged() {
        let dir = std::env::temp_dir().join("synthesize-sync-dotenv-quote");
        std::fs::create_dir_all(&dir).unwrap();
        let values = [
            "plain",
            "http://127.0.0.1:8710",
            "Billed User,VIP",
            "s3cr$t#1",
            "it's",
            "both ' and \" and $HOME",
        ];
        let text: String = values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("V{i}={}\n", dotenv_quote(v)))
            .collect();
        let file = dir.join("quote.env");
        std::fs::write(&file, text).unwrap();
        let env = Env::load(Some(&file)).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(env.get(&format!("V{i}")).as_deref(), Some(*v), "value {i}");
        }
    }
}

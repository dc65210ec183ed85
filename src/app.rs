//! The verbs: each reads settings, talks to the APIs and returns a report to print.

use serde::Serialize;

use crate::cli::{Cli, Verb, WriteArgs};
use crate::error::{Error, Result};
use crate::gradient::{IntegrationStatus, NewService, Synthesize};
use crate::names::normalize;
use crate::output::{Output, Render};
use crate::settings::{Env, Needs, OutputFormat, Settings, SourceKind};

/// Runs one invocation. Reports go to stdout through `out`; logs to stderr.
pub async fn execute(cli: Cli, env: &Env, out: &Output) -> Result<()> {
    let needs = match &cli.verb {
        Verb::Authenticate => Needs {
            gradient: true,
            source: false,
            psa: true,
        },
        Verb::SyncServices(_) => Needs {
            gradient: true,
            source: true,
            psa: false,
        },
        Verb::UpdateStatus { .. } => Needs {
            gradient: true,
            source: false,
            psa: false,
        },
        Verb::SyncAccounts(_) | Verb::SyncUsage(_) | Verb::Run(_) => Needs {
            gradient: true,
            source: true,
            psa: true,
        },
        Verb::Demo | Verb::Sandbox(_) => Needs::default(),
    };
    let settings = Settings::load(env, cli.source, needs)?;
    match cli.verb {
        Verb::Authenticate => authenticate(&settings, out).await,
        Verb::SyncServices(w) => {
            let source = settings.source.expect("needs.source");
            let report = sync_services(&settings, source, w).await?;
            out.emit(&report);
            Ok(())
        }
        Verb::UpdateStatus { status, write } => update_status(&settings, status, write, out).await,
        Verb::SyncAccounts(_) | Verb::SyncUsage(_) | Verb::Run(_) => Err(Error::Usage(format!(
            "the {} source's PSA reads are not built yet in this version; \
             sync-services, update-status and authenticate work now",
            settings.source.expect("needs.source")
        ))),
        Verb::Demo | Verb::Sandbox(_) => Err(Error::Usage(
            "demo and sandbox are not built yet in this version".into(),
        )),
    }
}

/// The output format: `--output` wins over `SYNC_OUTPUT`.
pub fn output_format(cli: &Cli, env: &Env) -> Result<OutputFormat> {
    if let Some(f) = cli.output {
        return Ok(f);
    }
    match env.get("SYNC_OUTPUT").as_deref() {
        None | Some("text") => Ok(OutputFormat::Text),
        Some("json") => Ok(OutputFormat::Json),
        Some(other) => Err(Error::setting(
            "SYNC_OUTPUT",
            format!("'{other}' is not an output format; use text or json"),
        )),
    }
}

#[derive(Debug, Serialize)]
struct AuthReport {
    synthesize: SynthesizeIdentity,
}

#[derive(Debug, Serialize)]
struct SynthesizeIdentity {
    organization: String,
    vendor: String,
    integration_status: String,
}

impl Render for AuthReport {
    fn text(&self) -> String {
        format!(
            "Synthesize: connected to {} as vendor {} (integration status: {})\n",
            self.synthesize.organization,
            self.synthesize.vendor,
            self.synthesize.integration_status
        )
    }
}

async fn authenticate(settings: &Settings, out: &Output) -> Result<()> {
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    let org = synthesize.organization().await?;
    out.emit(&AuthReport {
        synthesize: SynthesizeIdentity {
            organization: org.name,
            vendor: org.vendor_name,
            integration_status: org.status,
        },
    });
    Ok(())
}

/// What happened to one service.
#[derive(Debug, Serialize)]
pub struct ServiceResult {
    pub name: String,
    /// `exists`, `created` or `planned` (dry run).
    pub result: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ServicesReport {
    pub source: SourceKind,
    pub dry_run: bool,
    pub services: Vec<ServiceResult>,
    pub requests: Requests,
}

/// HTTP requests sent to each side, retries included.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Requests {
    pub psa: u64,
    pub gradient: u64,
}

impl Render for ServicesReport {
    fn text(&self) -> String {
        let mut s = String::new();
        for svc in &self.services {
            let what = match svc.result {
                "created" => "created",
                "planned" => "would be created (dry run)",
                _ => "already exists",
            };
            s.push_str(&format!("  {:<28} {what}\n", svc.name));
        }
        let created = self
            .services
            .iter()
            .filter(|s| s.result != "exists")
            .count();
        let verb = if self.dry_run { "to create" } else { "created" };
        s.push_str(&format!(
            "{}: {} services, {created} {verb}, {} already there\n",
            self.source,
            self.services.len(),
            self.services.len() - created
        ));
        s
    }
}

/// Creates each of the source's services whose name (ignoring case and spaces) is not
/// among the vendor's skus.
pub async fn sync_services(
    settings: &Settings,
    source: SourceKind,
    w: WriteArgs,
) -> Result<ServicesReport> {
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    let skus = synthesize.skus().await?;
    let mut services = Vec::new();
    for name in settings.service_names(source) {
        let exists = skus.iter().any(|s| normalize(&s.name) == normalize(&name));
        let result = if exists {
            "exists"
        } else if w.dry_run {
            "planned"
        } else {
            synthesize
                .create_service(&NewService {
                    description: service_description(source, &name),
                    name: name.clone(),
                    category: "other",
                    subcategory: "other",
                })
                .await?;
            tracing::info!("created service '{name}'");
            "created"
        };
        services.push(ServiceResult { name, result });
    }
    Ok(ServicesReport {
        source,
        dry_run: w.dry_run,
        services,
        requests: Requests {
            psa: 0,
            gradient: synthesize.request_count(),
        },
    })
}

fn service_description(source: SourceKind, name: &str) -> String {
    match source {
        SourceKind::ConnectwiseContacts => {
            format!("Active ConnectWise contacts of type '{name}' (synced by synthesize-sync)")
        }
        SourceKind::ConnectwiseSharedDevices => {
            format!("Active ConnectWise configurations, {name} (synced by synthesize-sync)")
        }
        SourceKind::AutotaskConfigurationItems => {
            format!("Active Autotask configuration items: {name} (synced by synthesize-sync)")
        }
    }
}

#[derive(Debug, Serialize)]
struct StatusReport {
    status: IntegrationStatus,
    dry_run: bool,
    requests: Requests,
}

impl Render for StatusReport {
    fn text(&self) -> String {
        if self.dry_run {
            format!(
                "Integration status would be set to {} (dry run)\n",
                self.status.as_str()
            )
        } else {
            format!("Integration status set to {}\n", self.status.as_str())
        }
    }
}

async fn update_status(
    settings: &Settings,
    status: IntegrationStatus,
    w: WriteArgs,
    out: &Output,
) -> Result<()> {
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    if !w.dry_run {
        synthesize.update_status(status).await?;
    }
    out.emit(&StatusReport {
        status,
        dry_run: w.dry_run,
        requests: Requests {
            psa: 0,
            gradient: synthesize.request_count(),
        },
    });
    Ok(())
}

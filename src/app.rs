//! The verbs: each reads settings, talks to the APIs and returns a report to print.

use serde::Serialize;

use crate::autotask::AutotaskSource;
use crate::cli::{Cli, UsageArgs, Verb, WriteArgs};
use crate::connectwise::ConnectWiseSource;
use crate::error::{Error, Result};
use crate::gradient::{IntegrationStatus, NewService, Synthesize};
use crate::names::normalize;
use crate::output::{Output, Render};
use crate::plan::{Tally, plan_accounts, plan_usage};
use crate::progress::Progress;
use crate::settings::{Env, Needs, OutputFormat, Settings, SourceKind};
use crate::source::Source;
use crate::sync::{self, Requests, RunReport, WriteOptions};

/// Runs one invocation. Reports go to stdout through `out`; logs to stderr.
pub async fn execute(cli: Cli, env: &Env, out: &Output, progress: &Progress) -> Result<()> {
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
        Verb::Authenticate => out.emit(&authenticate(&settings).await?),
        Verb::SyncServices(w) => {
            let source = settings.source.expect("needs.source");
            out.emit(&sync_services(&settings, source, w).await?);
        }
        Verb::UpdateStatus { status, write } => {
            out.emit(&update_status(&settings, status, write).await?)
        }
        Verb::SyncAccounts(w) => out.emit(&sync_accounts(&settings, w, progress).await?),
        Verb::SyncUsage(u) => {
            let report = sync_usage(&settings, u, progress).await?;
            out.emit(&report);
            return fail_on_failed_writes(&report);
        }
        Verb::Run(u) => {
            let report = run(&settings, u, progress).await?;
            out.emit(&report);
            return fail_on_failed_writes(&report.usage);
        }
        Verb::Demo => crate::sandbox::demo(out, progress).await?,
        Verb::Sandbox(args) => crate::sandbox::serve(&args, out).await?,
    }
    Ok(())
}

/// `sync-accounts`.
pub async fn sync_accounts(
    settings: &Settings,
    w: WriteArgs,
    progress: &Progress,
) -> Result<sync::AccountsReport> {
    let mut source = AnySource::new(settings)?;
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    let tally = sync::read(&mut source, progress).await?;
    let existing = synthesize.accounts().await?;
    let (mut report, _) =
        sync::accounts_step(source.kind(), &synthesize, &tally, &existing, w.dry_run).await?;
    report.requests = Some(requests(&source, &synthesize));
    Ok(report)
}

/// `sync-usage`.
pub async fn sync_usage(
    settings: &Settings,
    u: UsageArgs,
    progress: &Progress,
) -> Result<sync::UsageReport> {
    let mut source = AnySource::new(settings)?;
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    let tally = sync::read(&mut source, progress).await?;
    let accounts = synthesize.accounts().await?;
    let services = settings.service_names(source.kind());
    let mut report = sync::usage_step(
        source.kind(),
        &synthesize,
        &tally,
        &services,
        &accounts,
        write_options(settings, u),
        progress,
    )
    .await?;
    report.requests = requests(&source, &synthesize);
    Ok(report)
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
pub struct AuthReport {
    pub synthesize: SynthesizeIdentity,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub psa: Option<PsaIdentity>,
}

#[derive(Debug, Serialize)]
pub struct PsaIdentity {
    pub source: SourceKind,
    pub connected_as: String,
}

#[derive(Debug, Serialize)]
pub struct SynthesizeIdentity {
    pub organization: String,
    pub vendor: String,
    pub integration_status: String,
}

impl Render for AuthReport {
    fn text(&self) -> String {
        let mut s = format!(
            "Synthesize: connected to {} as vendor {} (integration status: {})\n",
            crate::terminal::escape(&self.synthesize.organization),
            crate::terminal::escape(&self.synthesize.vendor),
            crate::terminal::escape(&self.synthesize.integration_status)
        );
        match &self.psa {
            Some(psa) => s.push_str(&format!(
                "{}: {}\n",
                psa.source,
                crate::terminal::escape(&psa.connected_as)
            )),
            None => s.push_str(
                "PSA: not checked (no source given; pass --source or set SYNC_SOURCE to check it too)\n",
            ),
        }
        s
    }
}

/// Checks Gradient, then the PSA of the source when one is chosen.
pub async fn authenticate(settings: &Settings) -> Result<AuthReport> {
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    let org = synthesize.organization().await?;
    let psa = match settings.source {
        None => None,
        Some(kind) => {
            let mut source = AnySource::new(settings)?;
            Some(PsaIdentity {
                source: kind,
                connected_as: source.identity().await?,
            })
        }
    };
    Ok(AuthReport {
        synthesize: SynthesizeIdentity {
            organization: org.name,
            vendor: org.vendor_name,
            integration_status: org.status,
        },
        psa,
    })
}

/// `run`: accounts, services, usage, from a single read of the PSA.
pub async fn run(settings: &Settings, u: UsageArgs, progress: &Progress) -> Result<RunReport> {
    let mut source = AnySource::new(settings)?;
    let kind = source.kind();
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    let tally = sync::read(&mut source, progress).await?;
    let existing = synthesize.accounts().await?;
    let services_names = settings.service_names(kind);
    let opts = write_options(settings, u);
    // The guard looks at the final plan before anything at all is written, so a refused
    // run leaves no new account or service behind.
    let planned_accounts = sync::accounts_after(&plan_accounts(&tally, &existing), &existing);
    sync::guard_all_zero(
        &plan_usage(&tally, &services_names, &planned_accounts),
        opts,
    )?;
    let (accounts, after) =
        sync::accounts_step(kind, &synthesize, &tally, &existing, u.write.dry_run).await?;
    let mut services = sync_services_with(&synthesize, settings, kind, u.write).await?;
    services.requests = None;
    let mut usage = sync::usage_step(
        kind,
        &synthesize,
        &tally,
        &services_names,
        &after,
        opts,
        progress,
    )
    .await?;
    usage.requests = requests(&source, &synthesize);
    Ok(RunReport {
        source: kind,
        dry_run: u.write.dry_run,
        accounts,
        services,
        usage,
    })
}

fn write_options(settings: &Settings, u: UsageArgs) -> WriteOptions {
    WriteOptions {
        dry_run: u.write.dry_run,
        allow_all_zero: u.allow_all_zero,
        concurrency: settings.http.write_concurrency,
    }
}

fn requests(source: &AnySource, synthesize: &Synthesize) -> Requests {
    Requests {
        psa: source.request_count(),
        gradient: synthesize.request_count(),
    }
}

fn fail_on_failed_writes(report: &sync::UsageReport) -> Result<()> {
    let (failed, total) = (report.failed(), report.counts.len());
    if report.summary.not_attempted > 0 {
        Err(Error::WritesHalted { failed, total })
    } else if failed > 0 {
        Err(Error::WritesFailed { failed, total })
    } else {
        Ok(())
    }
}

/// The source chosen by the settings.
pub enum AnySource {
    ConnectWise(ConnectWiseSource),
    Autotask(AutotaskSource),
}

impl AnySource {
    pub fn new(settings: &Settings) -> Result<Self> {
        let kind = settings.source.ok_or_else(|| {
            Error::Usage("no source given; pass --source or set SYNC_SOURCE".into())
        })?;
        Ok(match kind {
            SourceKind::AutotaskConfigurationItems => {
                AnySource::Autotask(AutotaskSource::new(settings)?)
            }
            cw => AnySource::ConnectWise(ConnectWiseSource::new(cw, settings)?),
        })
    }

    pub fn kind(&self) -> SourceKind {
        match self {
            AnySource::ConnectWise(s) => s.kind(),
            AnySource::Autotask(_) => SourceKind::AutotaskConfigurationItems,
        }
    }
}

impl Source for AnySource {
    async fn identity(&mut self) -> Result<String> {
        match self {
            AnySource::ConnectWise(s) => s.identity().await,
            AnySource::Autotask(s) => s.identity().await,
        }
    }

    async fn tally(&mut self, progress: &Progress) -> Result<Tally> {
        match self {
            AnySource::ConnectWise(s) => s.tally(progress).await,
            AnySource::Autotask(s) => s.tally(progress).await,
        }
    }

    fn request_count(&self) -> u64 {
        match self {
            AnySource::ConnectWise(s) => s.request_count(),
            AnySource::Autotask(s) => s.request_count(),
        }
    }
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
    /// Absent inside `run`'s report, whose top-level `requests` covers every step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<Requests>,
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
            s.push_str(&format!(
                "  {:<28} {what}\n",
                crate::terminal::escape(&svc.name)
            ));
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
    sync_services_with(&synthesize, settings, source, w).await
}

async fn sync_services_with(
    synthesize: &Synthesize,
    settings: &Settings,
    source: SourceKind,
    w: WriteArgs,
) -> Result<ServicesReport> {
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
                    category: crate::gradient::SERVICE_CATEGORY,
                    subcategory: crate::gradient::SERVICE_SUBCATEGORY,
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
        requests: Some(Requests {
            psa: 0,
            gradient: synthesize.request_count(),
        }),
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
pub struct StatusReport {
    pub status: IntegrationStatus,
    pub dry_run: bool,
    pub requests: Requests,
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

pub async fn update_status(
    settings: &Settings,
    status: IntegrationStatus,
    w: WriteArgs,
) -> Result<StatusReport> {
    let synthesize = Synthesize::new(settings.gradient(), &settings.http)?;
    if !w.dry_run {
        synthesize.update_status(status).await?;
    }
    Ok(StatusReport {
        status,
        dry_run: w.dry_run,
        requests: Requests {
            psa: 0,
            gradient: synthesize.request_count(),
        },
    })
}

//! The binary: parses the command line, dispatches to the verb, prints its report, and maps
//! the outcome to an exit code (README "Exit codes", docs/contract.md §4).

mod cli;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::{CallbacksCommand, Cli, HistoryAction, Verb};
use synthesize_sync::config::{self, Env, OutputFormat};
use synthesize_sync::error::{Error, Result};
use synthesize_sync::http::redact;
use synthesize_sync::progress::Progress;
use synthesize_sync::report::Output;
use synthesize_sync::{text, verbs};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    // Until settings are read, the output format comes from the flag or the real environment,
    // so even a broken .env gets its JSON error document.
    let color = use_color(cli.color);
    let early = Output {
        color,
        source: None,
        format: cli
            .output
            .map(OutputFormat::from)
            .unwrap_or(if process_wants_json() {
                OutputFormat::Json
            } else {
                OutputFormat::Text
            }),
    };
    let env = if needs_no_settings(&cli.verb) {
        // They need no settings: a half-written .env must not stop a first try.
        Env::process()
    } else {
        match Env::load(cli.env_file.as_deref()) {
            Ok(env) => env,
            Err(e) => return fail(&early, &e),
        }
    };
    init_logging(&cli, &env);
    // After the log is set up: the checks warn about names that look wrong. `doctor` reports
    // them as a check of its own.
    if !needs_no_settings(&cli.verb)
        && !matches!(cli.verb, Verb::Doctor)
        && let Err(e) = verbs::check_settings(&env)
    {
        return fail(&early, &e);
    }
    // Error documents name the source when the settings name a valid one.
    let source = synthesize_sync::sources::optional(&env, cli.source)
        .ok()
        .flatten()
        .map(|k| k.name());
    let early = Output { source, ..early };
    let out = match cli.output {
        Some(f) => Output {
            format: f.into(),
            ..early
        },
        None => match config::output_format(&env) {
            Ok(format) => Output { format, ..early },
            Err(e) => return fail(&early, &e),
        },
    };

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let progress = Progress::new(
        out.format == OutputFormat::Text && !cli.quiet && std::io::stderr().is_terminal(),
    );
    // `listen` handles its interrupts itself: the first drains, the next ones go here.
    let listens = !is_sandbox(&cli.verb) && !matches!(cli.verb, Verb::Listen(_));
    match runtime.block_on(async {
        if listens {
            synthesize_sync::interrupt::listen();
        }
        dispatch(cli, &env, &out, &progress).await
    }) {
        Ok(Done::Done) => ExitCode::SUCCESS,
        Ok(Done::Exit(code)) => ExitCode::from(code),
        Err(e) => fail(&out, &e),
    }
}

fn needs_no_settings(verb: &Verb) -> bool {
    #[cfg(feature = "sandbox")]
    if matches!(verb, Verb::Demo | Verb::Sandbox(_)) {
        return true;
    }
    let _ = verb;
    false
}

/// What ended a run that did not fail: done (0), or, for `--dry-run --detailed-exitcode`,
/// changes pending (8) or the exit code of the guard a real run would be refused by (4, 5).
enum Done {
    Done,
    Exit(u8),
}

/// Runs the verb and prints its report.
async fn dispatch(cli: Cli, env: &Env, out: &Output, progress: &Progress) -> Result<Done> {
    let source = cli.source;
    #[cfg(feature = "sandbox")]
    if matches!(cli.verb, Verb::Demo) && (cli.source.is_some() || cli.env_file.is_some()) {
        return Err(Error::Usage(
            "demo runs every source on its own sandbox settings: drop --source and --env-file \
             (to try your settings, use --dry-run with a verb)"
                .into(),
        ));
    }
    if out.format == OutputFormat::Csv
        && !matches!(
            cli.verb,
            Verb::History(_) | Verb::Clients(_) | Verb::Engagement(_)
        )
    {
        return Err(Error::Usage(
            "--output csv is for history, clients and engagement; use text or json here".into(),
        ));
    }
    if out.format == OutputFormat::Html && !matches!(cli.verb, Verb::Engagement(_)) {
        return Err(Error::Usage(
            "--output html is for engagement only; use text or json here (csv too for history and clients)".into(),
        ));
    }
    match cli.verb {
        Verb::Authenticate => {
            let report = verbs::authenticate(env, source).await?;
            out.emit(&report);
            if let Some(psa) = &report.psa
                && let Some(e) = &psa.error
            {
                return Err(Error::Reported {
                    code: psa.exit_code,
                    message: e.clone(),
                });
            }
        }
        Verb::SyncAccounts(w) => {
            out.emit(&verbs::sync_accounts(env, source, w.into(), progress).await?)
        }
        Verb::SyncServices(w) => {
            // The source is required here even though no PSA is read: it names the services.
            out.emit(&verbs::sync_services(env, source, w.into()).await?)
        }
        Verb::UpdateStatus { status, write } => {
            out.emit(&verbs::update_status(env, source, status.into(), write.into()).await?)
        }
        Verb::SyncUsage(u) => {
            let report = verbs::sync_usage(env, source, u.into(), progress).await?;
            out.emit(&report);
            verbs::fail_on_failed_writes(&report)?;
            return Ok(pending(u.detailed_exitcode, &report));
        }
        Verb::Run(u) => {
            let report = verbs::run(env, source, u.into(), progress).await?;
            out.emit(&report);
            verbs::fail_on_failed_writes(&report.usage)?;
            return Ok(pending(u.detailed_exitcode, &report.usage));
        }
        Verb::Doctor => {
            let report = verbs::doctor(env, source).await?;
            out.emit(&report);
            if !report.ok {
                return Ok(Done::Exit(1));
            }
        }
        Verb::RetireService { name, write } => {
            let report = verbs::retire_service(env, source, &name, write.into(), progress).await?;
            out.emit(&report);
            verbs::fail_on_failed_writes(&report)?;
        }
        Verb::Clients(c) => {
            let filters = verbs::engagement_filters(&c.company_type, &c.status)?;
            out.emit(&verbs::clients(env, &filters).await?);
        }
        Verb::Engagement(e) => {
            let args = verbs::EngagementArgs {
                days: e.days,
                compare: e.compare,
                compare_wanted: e.compare || out.format == OutputFormat::Html,
                csat: e.csat,
                filters: verbs::engagement_filters(&e.companies.company_type, &e.companies.status)?,
            };
            out.emit(&verbs::engagement(env, &args, synthesize_sync::ledger::now()).await?);
        }
        Verb::History(h) => {
            let query = match h.action {
                None => verbs::HistoryQuery::List { limit: h.limit },
                Some(HistoryAction::Show { run }) => verbs::HistoryQuery::Show { run },
                Some(HistoryAction::Diff { run_a, run_b }) => verbs::HistoryQuery::Diff {
                    runs: HistoryAction::diff_runs(run_a, run_b).map_err(Error::Usage)?,
                },
            };
            match verbs::history(env, source, query)? {
                verbs::HistoryAnswer::List(r) => out.emit(&r),
                verbs::HistoryAnswer::Show(r) => out.emit(r.as_ref()),
                verbs::HistoryAnswer::Diff(r) => out.emit(r.as_ref()),
            }
        }
        Verb::Listen(args) => {
            let opts = verbs::ListenOptions {
                addr: args.addr,
                path: args.path,
                debounce: std::time::Duration::from_secs(args.debounce),
                engagement_days: args.engagement_days,
            };
            return Ok(Done::Exit(
                verbs::listen(env, source, opts, progress).await?,
            ));
        }
        Verb::Callbacks { action } => {
            let action = match action {
                CallbacksCommand::Register { url } => verbs::CallbacksAction::Register { url },
                CallbacksCommand::List => verbs::CallbacksAction::List,
                CallbacksCommand::Remove { url } => verbs::CallbacksAction::Remove { url },
            };
            out.emit(&verbs::callbacks(env, source, action).await?);
        }
        #[cfg(feature = "sandbox")]
        Verb::Demo => verbs::demo::demo(out, progress).await?,
        #[cfg(feature = "sandbox")]
        Verb::Sandbox(args) => {
            let ports = verbs::sandbox::Ports {
                gradient: args.gradient_port,
                connectwise: args.connectwise_port,
                autotask: args.autotask_port,
            };
            verbs::sandbox::serve(ports, out).await?
        }
    }
    Ok(Done::Done)
}

/// `--detailed-exitcode` (a dry run only, clap sees to that): the code of the guard a real
/// run would be refused by, else 8 when something would change.
fn pending(detailed: bool, report: &synthesize_sync::report::verbs::UsageReport) -> Done {
    if !detailed {
        return Done::Done;
    }
    match &report.refused {
        Some(r) if r.guard == "drop" => Done::Exit(5),
        Some(_) => Done::Exit(4),
        None if report.changes > 0 => Done::Exit(8),
        None => Done::Done,
    }
}

/// clap's own errors: help and version print and exit 0; usage errors keep clap's
/// message on stderr, exit 2, and in JSON mode also print one JSON document.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        e.exit();
    }
    let wants_json = {
        // args_os: an argument that is not UTF-8 must not panic here.
        let args: Vec<String> = std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        args.windows(2)
            .any(|w| w[0] == "--output" && w[1] == "json")
            || args.iter().any(|a| a == "--output=json")
            || process_wants_json()
    };
    if wants_json {
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("usage error");
        let message = first.strip_prefix("error: ").unwrap_or(first);
        Output {
            format: OutputFormat::Json,
            color: false,
            source: None,
        }
        .emit_error(message, 2);
    }
    let _ = e.print();
    ExitCode::from(2)
}

/// `--color`: `always`, `never`, or (`auto`, the default) when stdout is a terminal and
/// `NO_COLOR` is not set (no-color.org) and the terminal is not `dumb`.
fn use_color(choice: cli::ColorArg) -> bool {
    match choice {
        cli::ColorArg::Always => true,
        cli::ColorArg::Never => false,
        cli::ColorArg::Auto => synthesize_sync::report::auto_color(
            std::io::stdout().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("TERM").as_deref(),
        ),
    }
}

fn process_wants_json() -> bool {
    std::env::var("SYNC_OUTPUT").is_ok_and(|v| v.trim() == "json")
}

fn fail(out: &Output, e: &Error) -> ExitCode {
    // One line, whatever a server put in it: secrets scrubbed, controls escaped.
    let message = text::escape(&redact::scrub(&e.to_string())).into_owned();
    {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "error: {message}");
    }
    // Failed writes are listed in the report already printed on stdout.
    if !matches!(
        e,
        Error::WritesFailed { .. }
            | Error::WritesHalted { .. }
            | Error::RecordIncomplete
            | Error::Reported { .. }
            | Error::Interrupted { reported: true, .. }
    ) {
        let refused = e
            .refusal()
            .map(|(guard, why)| (guard, text::escape(&redact::scrub(why)).into_owned()));
        out.emit_failure(
            &message,
            e.exit_code(),
            refused.as_ref().map(|(g, w)| (*g, w.as_str())),
            e.side().map(|s| s.key()),
        );
    }
    ExitCode::from(e.exit_code())
}

/// Logs go to stderr. `-q`/`-v` win; otherwise RUST_LOG (environment or .env); otherwise
/// info for this tool and warnings from the libraries under it.
fn init_logging(cli: &Cli, env: &Env) {
    let filter = if cli.quiet {
        EnvFilter::new("error")
    } else if cli.verbose >= 2 {
        EnvFilter::new("synthesize_sync=trace,synthesize_sims=debug,info")
    } else if cli.verbose == 1 {
        EnvFilter::new("synthesize_sync=debug,synthesize_sims=info,warn")
    } else if let Some(spec) = env.get("RUST_LOG") {
        EnvFilter::try_new(&spec).unwrap_or_else(|_| EnvFilter::new("warn,synthesize_sync=info"))
    } else if is_demo(&cli.verb) {
        // The demo's report tells the story; its progress log lines would only repeat it.
        EnvFilter::new("error")
    } else {
        EnvFilter::new("warn,synthesize_sync=info")
    };
    // No colours: every log record passes through the scrubber and the control-character
    // escape on its way to stderr (report::SafeStderr), which would escape them too.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(synthesize_sync::report::SafeStderr::default)
        .with_ansi(false)
        .with_target(false)
        .with_timer(LogTime {
            short: std::io::stderr().is_terminal(),
        })
        .init();
}

/// Log timestamps in UTC: the time of day on a terminal, the whole RFC 3339 time elsewhere
/// (a log file outlives the day).
struct LogTime {
    short: bool,
}

impl tracing_subscriber::fmt::time::FormatTime for LogTime {
    fn format_time(&self, w: &mut tracing_subscriber::fmt::format::Writer<'_>) -> std::fmt::Result {
        let now = synthesize_sync::text::utc(synthesize_sync::ledger::now());
        match (self.short, now.split_once('T')) {
            (true, Some((_, time))) => write!(w, "{time}"),
            _ => write!(w, "{now}"),
        }
    }
}

/// The sandbox serves until Ctrl-C itself.
fn is_sandbox(verb: &Verb) -> bool {
    #[cfg(feature = "sandbox")]
    if matches!(verb, Verb::Sandbox(_)) {
        return true;
    }
    let _ = verb;
    false
}

fn is_demo(verb: &Verb) -> bool {
    #[cfg(feature = "sandbox")]
    if matches!(verb, Verb::Demo) {
        return true;
    }
    let _ = verb;
    false
}

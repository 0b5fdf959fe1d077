//! The `stream-chat-server` binary: a local Stream Chat-compatible server.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use stream_chat_server::{
    DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_PORT, Server, ServerBuilder,
};

fn usage() -> String {
    format!(
        "stream-chat-server: a local Stream Chat-compatible server (REST and WebSocket on one port)

USAGE:
    stream-chat-server [OPTIONS]

OPTIONS:
    --addr HOST:PORT               Address to listen on; port 0 picks a free port [default: 127.0.0.1:{DEFAULT_PORT}]
    --api-key KEY                  API key clients must send [default: {DEFAULT_API_KEY}]
    --api-secret SECRET            Secret tokens are signed with [default: the development secret, see docs]
    --disable-auth-checks          Accept development tokens (signature \"devtoken\")
    --multi-tenant                 Teams on: guest users are refused
    --health-check-interval SECS   Seconds between unsolicited health.check frames [default: 30]
    --max-queued-frames N          Frames queued for one WebSocket before its client counts as
                                   too slow and is disconnected (close 1013) [default: 1024]
    --exit-on-stdin-close          Also shut down when stdin reaches end-of-file or the parent
                                   process exits (for test harnesses: no orphaned servers)
    -h, --help                     Print this help

The first line on stdout contains the base URL (http://HOST:PORT). Logs go to stderr
(filter with RUST_LOG, e.g. RUST_LOG=debug). SIGINT and SIGTERM shut the server down cleanly.
"
    )
}

/// What the command line asks for.
struct Options {
    builder: ServerBuilder,
    exit_on_stdin_close: bool,
}

/// Parses the command line; `Ok(None)` means `--help`.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Options>, String> {
    let mut builder = Server::builder().addr(SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)));
    let mut exit_on_stdin_close = false;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        builder =
            match flag.as_str() {
                "-h" | "--help" => return Ok(None),
                "--addr" => {
                    let v = value("--addr")?;
                    builder.addr(v.parse().map_err(|_| {
                        format!("--addr: '{v}' is not HOST:PORT (e.g. 127.0.0.1:0)")
                    })?)
                }
                "--api-key" => builder.api_key(value("--api-key")?),
                "--api-secret" => builder.api_secret(value("--api-secret")?),
                "--disable-auth-checks" => builder.disable_auth_checks(true),
                "--multi-tenant" => builder.multi_tenant(true),
                "--health-check-interval" => {
                    let v = value("--health-check-interval")?;
                    let secs: f64 = v
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 1e9)
                        .ok_or(format!(
                            "--health-check-interval: '{v}' is not a positive number of seconds"
                        ))?;
                    builder.health_check_interval(Duration::from_secs_f64(secs))
                }
                "--max-queued-frames" => {
                    let v = value("--max-queued-frames")?;
                    let frames: usize = v.parse().ok().filter(|n| *n > 0).ok_or(format!(
                        "--max-queued-frames: '{v}' is not a positive number"
                    ))?;
                    builder.max_queued_frames(frames)
                }
                "--exit-on-stdin-close" => {
                    exit_on_stdin_close = true;
                    builder
                }
                other => return Err(format!("unknown argument '{other}'")),
            };
    }
    Ok(Some(Options {
        builder,
        exit_on_stdin_close,
    }))
}

fn main() -> ExitCode {
    let Options {
        builder,
        exit_on_stdin_close,
    } = match parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{}", usage());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {e}\n\n{}", usage());
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let server = match builder.start() {
        Ok(server) => server,
        Err(e) => {
            eprintln!("error: cannot start the server: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Everything that decides when to exit is armed before the URL is announced: a caller
    // may signal or orphan the server as soon as it reads that line.
    let exit = ExitWatch::arm(exit_on_stdin_close);
    let mut stdout = std::io::stdout();
    let _ = writeln!(
        stdout,
        "stream-chat-server listening on {} (api_key {})",
        server.base_url(),
        server.api_key()
    );
    let _ = stdout.flush();
    if server.api_secret() == DEFAULT_API_SECRET {
        tracing::warn!(
            "using the built-in development API secret; pass --api-secret for anything shared"
        );
    }
    let reason = exit.wait();
    tracing::info!("{reason}: shutting down");
    server.shutdown();
    ExitCode::SUCCESS
}

/// How often the parent process is checked under `--exit-on-stdin-close`.
#[cfg(unix)]
const PARENT_CHECK_INTERVAL: Duration = Duration::from_millis(250);

/// What ends the server: SIGINT/SIGTERM, and with `--exit-on-stdin-close` also stdin reaching
/// end-of-file or the parent process exiting. Armed before the URL is printed.
struct ExitWatch {
    rt: Option<tokio::runtime::Runtime>,
    signals: Signals,
    watch_stdin: bool,
    parent: u32,
}

#[cfg(unix)]
type Signals = Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>;
#[cfg(not(unix))]
type Signals = ();

impl ExitWatch {
    fn arm(watch_stdin: bool) -> ExitWatch {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok();
        #[cfg(unix)]
        let signals = rt.as_ref().and_then(|rt| {
            use tokio::signal::unix::{SignalKind, signal};
            let _context = rt.enter();
            Some((
                signal(SignalKind::interrupt()).ok()?,
                signal(SignalKind::terminate()).ok()?,
            ))
        });
        #[cfg(not(unix))]
        let signals = ();
        ExitWatch {
            rt,
            signals,
            watch_stdin,
            parent: parent_id(),
        }
    }

    /// Blocks until one of the armed conditions happens and says which.
    fn wait(self) -> &'static str {
        let ExitWatch {
            rt,
            signals,
            watch_stdin,
            parent,
        } = self;
        let Some(rt) = rt else {
            loop {
                std::thread::park();
            }
        };
        rt.block_on(async move {
            tokio::select! {
                reason = signal(signals) => reason,
                reason = stdin_closed(), if watch_stdin => reason,
                reason = parent_exited(parent), if watch_stdin => reason,
            }
        })
    }
}

/// Resolves on SIGINT or SIGTERM (Ctrl-C elsewhere).
async fn signal(signals: Signals) -> &'static str {
    #[cfg(unix)]
    if let Some((mut int, mut term)) = signals {
        return tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
    }
    #[cfg(not(unix))]
    let () = signals;
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

#[cfg(unix)]
fn parent_id() -> u32 {
    std::os::unix::process::parent_id()
}

#[cfg(not(unix))]
fn parent_id() -> u32 {
    0
}

/// Resolves once stdin reaches end-of-file or fails; whatever is written to it is discarded.
async fn stdin_closed() -> &'static str {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let _ = rx.await;
    "stdin closed"
}

/// Resolves once this process is no longer the child of `parent`, i.e. its parent exited
/// (Unix; never elsewhere).
async fn parent_exited(parent: u32) -> &'static str {
    #[cfg(unix)]
    {
        let mut tick = tokio::time::interval(PARENT_CHECK_INTERVAL);
        while parent_id() == parent {
            tick.tick().await;
        }
        "parent process exited"
    }
    #[cfg(not(unix))]
    {
        let _ = parent;
        std::future::pending().await
    }
}

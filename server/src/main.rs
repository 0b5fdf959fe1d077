//! The `stream-chat-server` binary: a local Stream Chat-compatible server.

mod cli;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use cli::{Command, Serve};
use stream_chat_server::DEFAULT_API_SECRET;

fn main() -> ExitCode {
    let Serve {
        builder,
        exit_on_stdin_close,
        dev_tokens,
    } = match cli::parse(std::env::args().skip(1)) {
        Ok(Command::Serve(serve)) => *serve,
        Ok(Command::Help(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Version) => {
            println!("{}", cli::version());
            return ExitCode::SUCCESS;
        }
        Ok(Command::Token(request)) => {
            println!("{}", request.token());
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("error: {}\n\n{}", e.message, e.usage);
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
    for line in cli::banner(&server, dev_tokens) {
        let _ = writeln!(stdout, "{line}");
    }
    let _ = stdout.flush();
    if server.api_secret() == DEFAULT_API_SECRET {
        tracing::warn!(
            "using the built-in development API secret; pass --api-secret for anything shared"
        );
    }
    let reason = exit.wait();
    tracing::info!("{reason}: shutting down");
    match server.stop() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
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

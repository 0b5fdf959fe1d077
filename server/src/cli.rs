//! The binary's command line: serve (the default), `token USER [--exp SECS]`, `--help`,
//! `--version`, and the start banner.

use std::net::SocketAddr;
use std::time::Duration;

use stream_chat_protocol::{jwt, time};
use stream_chat_server::{
    DEFAULT_API_KEY, DEFAULT_API_SECRET, DEFAULT_MAX_UPLOAD_BYTES, DEFAULT_PORT, RateLimits,
    Server, ServerBuilder, ServerHandle,
};

/// The user the banner's sample token is for.
pub const SAMPLE_USER: &str = "alice";

/// What the command line asks for.
pub enum Command {
    /// Run the server.
    Serve(Box<Serve>),
    /// Print a user token and exit.
    Token(TokenRequest),
    /// Print this text (usage) and exit.
    Help(String),
    /// Print the version and exit.
    Version,
}

/// `stream-chat-server [OPTIONS]`.
pub struct Serve {
    pub builder: ServerBuilder,
    pub exit_on_stdin_close: bool,
    /// `--disable-auth-checks`, for the banner.
    pub dev_tokens: bool,
}

/// `stream-chat-server token USER [--exp SECS] [--api-secret SECRET]`.
pub struct TokenRequest {
    pub user_id: String,
    pub expires_in: Option<Duration>,
    pub api_secret: String,
}

impl TokenRequest {
    /// The token: HS256 over the secret, `{"user_id": .., "exp": ..}`, its payload segment
    /// readable by the JS client (no `-`/`_`).
    pub fn token(&self) -> String {
        let exp = self.expires_in.map(|d| {
            time::now_secs().saturating_add(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        });
        jwt::js_safe_user_token_with_exp(self.api_secret.as_bytes(), &self.user_id, exp)
    }
}

pub fn version() -> String {
    format!("stream-chat-server {}", env!("CARGO_PKG_VERSION"))
}

pub fn usage() -> String {
    format!(
        "stream-chat-server: a local Stream Chat-compatible server (REST and WebSocket on one port)

USAGE:
    stream-chat-server [OPTIONS]                 run the server
    stream-chat-server token USER [--exp SECS]   print a user token for the server's secret

OPTIONS:
    --addr HOST:PORT               Address to listen on; port 0 picks a free port [default: 127.0.0.1:{DEFAULT_PORT}]
    --api-key KEY                  API key clients must send [default: {DEFAULT_API_KEY}]
    --api-secret SECRET            Secret tokens are signed with [default: {DEFAULT_API_SECRET}]
                                   (a public development value: pass your own for anything shared)
    --disable-auth-checks          Accept development tokens (signature \"devtoken\", from the
                                   SDKs' dev_token / devToken)
    --multi-tenant                 Teams on: users see only channels and users of their teams
                                   (code 17 otherwise); guest users are refused
    --health-check-interval SECS   Seconds between unsolicited health.check frames [default: 30]
    --max-queued-frames N          Frames queued for one WebSocket before its client counts as
                                   too slow and is disconnected (close 1013) [default: 1024]
    --max-upload-bytes N           Largest uploaded file, in bytes [default: {DEFAULT_MAX_UPLOAD_BYTES}]
    --data-dir DIR                 Keep the chat state in DIR instead of in memory, so it survives
                                   a restart: an SQLite database DIR/chat.sqlite3 (each write on
                                   disk before its answer) and uploaded files in DIR/uploads.
                                   One server per DIR (locked while it runs) [default: in memory]
    --webhook-url URL              POST every event to URL (http://), signed with the secret
    --header-timeout SECS          Seconds a client may take to send a request head (also the
                                   wait for the next request on a kept-alive connection) [default: 30]
    --body-timeout SECS            Seconds a client may take to send a request body [default: 30]
    --idle-timeout SECS            Seconds an HTTP connection may stay without a request [default: 30]
    --max-connections N            Open connections before the longest-idle one is closed to make
                                   room [default: the file-descriptor limit less an eighth and 32]
    --rate-limits off|on|N         Per-user, per-endpoint rate limits with X-RateLimit-* headers and
                                   429 (code 9): on is Stream's 60 requests a minute per user and
                                   endpoint, N another number a minute, off none (load tests) [default: on]
    --import FILE                  Load users, channels, members, messages and reactions from FILE
                                   (a snapshot document, as --export-on-exit and GET /emulator/export
                                   write) at start; a bad file is an error and the server exits
    --export-on-exit FILE          Write the state to FILE (the same document) when the server
                                   shuts down (SIGINT, SIGTERM, --exit-on-stdin-close)
    --dashboard-public             Serve the dashboard (/dashboard) to every client, not only to
                                   loopback ones (it mints tokens and kicks connections)
    --exit-on-stdin-close          Also shut down when stdin reaches end-of-file or the parent
                                   process exits (for test harnesses: no orphaned servers)
    -h, --help                     Print this help
    -V, --version                  Print the version

The first line on stdout contains the base URL (http://HOST:PORT); the lines after it show the
API key, the secret when it is the development default, a sample user token and the dashboard
URL (http://HOST:PORT/dashboard, loopback clients only by default). Logs go to
stderr (filter with RUST_LOG, e.g. RUST_LOG=debug). SIGINT and SIGTERM shut the server down
cleanly.

{}",
        token_usage()
    )
}

pub fn token_usage() -> String {
    format!(
        "TOKEN:
    stream-chat-server token USER [--exp SECS] [--api-secret SECRET]

    Prints a JWT for USER signed with SECRET [default: {DEFAULT_API_SECRET}],
    for clients of a server started with the same --api-secret (the official JS and Python
    clients, this SDK).
    --exp SECS makes it expire SECS seconds from now (default: no expiry).
"
    )
}

/// A bad command line: what is wrong, and the usage to print after it.
pub struct UsageError {
    pub message: String,
    pub usage: String,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, UsageError> {
    let mut args = args.into_iter().peekable();
    if args.peek().map(String::as_str) == Some("token") {
        args.next();
        return parse_token(args).map_err(|message| UsageError {
            message,
            usage: token_usage(),
        });
    }
    parse_serve(args).map_err(|message| UsageError {
        message,
        usage: usage(),
    })
}

fn parse_serve(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut builder = Server::builder().addr(SocketAddr::from(([127, 0, 0, 1], DEFAULT_PORT)));
    let mut exit_on_stdin_close = false;
    let mut dev_tokens = false;
    while let Some(arg) = args.next() {
        let (flag, inline) = split_flag(&arg);
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("{name} needs a value"))
        };
        builder =
            match flag.as_str() {
                "-h" | "--help" => return Ok(Command::Help(usage())),
                "-V" | "--version" => return Ok(Command::Version),
                "--addr" => {
                    let v = value("--addr")?;
                    builder.addr(v.parse().map_err(|_| {
                        format!("--addr: '{v}' is not HOST:PORT (e.g. 127.0.0.1:0)")
                    })?)
                }
                "--api-key" => builder.api_key(value("--api-key")?),
                "--api-secret" => builder.api_secret(value("--api-secret")?),
                "--disable-auth-checks" => {
                    dev_tokens = true;
                    builder.disable_auth_checks(true)
                }
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
                "--max-upload-bytes" => {
                    let v = value("--max-upload-bytes")?;
                    let bytes: u64 = v.parse().map_err(|_| {
                        format!("--max-upload-bytes: '{v}' is not a number of bytes")
                    })?;
                    builder.max_upload_bytes(bytes)
                }
                "--data-dir" => builder.data_dir(value("--data-dir")?),
                "--webhook-url" => builder.webhook_url(value("--webhook-url")?),
                // Connections (issue 15).
                "--header-timeout" => builder
                    .header_timeout(seconds("--header-timeout", &value("--header-timeout")?)?),
                "--body-timeout" => {
                    builder.body_timeout(seconds("--body-timeout", &value("--body-timeout")?)?)
                }
                "--idle-timeout" => {
                    builder.idle_timeout(seconds("--idle-timeout", &value("--idle-timeout")?)?)
                }
                "--rate-limits" => {
                    let v = value("--rate-limits")?;
                    builder.rate_limits(match v.as_str() {
                        "off" => RateLimits::off(),
                        "on" => RateLimits::stream(),
                        n => RateLimits::stream().with_per_user(
                            n.parse().ok().filter(|n| *n > 0).ok_or(format!(
                                "--rate-limits: '{v}' is not off, on or a positive number"
                            ))?,
                        ),
                    })
                }
                "--max-connections" => {
                    let v = value("--max-connections")?;
                    let n: usize = v
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or(format!("--max-connections: '{v}' is not a positive number"))?;
                    builder.max_connections(n)
                }
                // Seed, snapshot and the dashboard (issue 13).
                "--import" => builder.import(value("--import")?),
                "--export-on-exit" => builder.export_on_exit(value("--export-on-exit")?),
                "--dashboard-public" => builder.dashboard_public(true),
                "--exit-on-stdin-close" => {
                    exit_on_stdin_close = true;
                    builder
                }
                other => return Err(format!("unknown argument '{other}'")),
            };
    }
    Ok(Command::Serve(Box::new(Serve {
        builder,
        exit_on_stdin_close,
        dev_tokens,
    })))
}

fn parse_token(mut args: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut user_id = None;
    let mut expires_in = None;
    let mut api_secret = DEFAULT_API_SECRET.to_owned();
    while let Some(arg) = args.next() {
        let (flag, inline) = split_flag(&arg);
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or(format!("token: {name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help(token_usage())),
            "--exp" => {
                let v = value("--exp")?;
                let secs: u64 = v.parse().ok().filter(|s| *s > 0).ok_or(format!(
                    "token: --exp: '{v}' is not a positive whole number of seconds"
                ))?;
                expires_in = Some(Duration::from_secs(secs));
            }
            "--api-secret" => {
                api_secret = value("--api-secret")?;
                if api_secret.is_empty() {
                    return Err("token: --api-secret must not be empty".into());
                }
            }
            other if other.starts_with('-') => {
                return Err(format!("token: unknown option '{other}'"));
            }
            _ if user_id.is_some() => {
                return Err(format!("token: one USER only, got another: '{arg}'"));
            }
            _ if arg.trim().is_empty() => return Err("token: USER must not be empty".into()),
            _ => user_id = Some(arg),
        }
    }
    let user_id = user_id.ok_or("token: which user? stream-chat-server token USER")?;
    Ok(Command::Token(TokenRequest {
        user_id,
        expires_in,
        api_secret,
    }))
}

/// A positive number of seconds (fractions allowed) for `flag`.
fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    v.parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or(format!("{flag}: '{v}' is not a positive number of seconds"))
}

/// `--flag=value` → (`--flag`, Some(`value`)); anything else → (arg, None).
fn split_flag(arg: &str) -> (String, Option<String>) {
    match arg.split_once('=') {
        Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
        _ => (arg.to_owned(), None),
    }
}

/// The lines printed on stdout once the server listens. The first one (with the base URL)
/// is what harnesses parse; keep it first and unchanged.
pub fn banner(server: &ServerHandle, dev_tokens: bool) -> Vec<String> {
    let url = server.base_url();
    let secret = if server.api_secret() == DEFAULT_API_SECRET {
        format!("{DEFAULT_API_SECRET} (the public development default)")
    } else {
        "(from --api-secret; not printed)".to_owned()
    };
    let sample = TokenRequest {
        user_id: SAMPLE_USER.to_owned(),
        expires_in: None,
        api_secret: server.api_secret().to_owned(),
    }
    .token();
    let lines = vec![
        format!(
            "stream-chat-server listening on {url} (api_key {})",
            server.api_key()
        ),
        format!(
            "  url:          {url}  (REST; WebSocket {}/connect)",
            url.replacen("http://", "ws://", 1)
        ),
        format!("  api key:      {}", server.api_key()),
        format!("  api secret:   {secret}"),
        format!("  sample token: {sample}"),
        format!(
            "                (user \"{SAMPLE_USER}\", no expiry; more: stream-chat-server token USER [--exp SECS]{})",
            if server.api_secret() == DEFAULT_API_SECRET {
                ""
            } else {
                " --api-secret SECRET"
            }
        ),
        format!("  dashboard:    {}", server.dashboard_url()),
        match server.data_dir() {
            Some(dir) => format!("  data dir:     {} (kept across restarts)", dir.display()),
            None => {
                "  data dir:     none: in memory, gone on stop (--data-dir DIR keeps it)".to_owned()
            }
        },
        if dev_tokens {
            "  dev tokens:   accepted (--disable-auth-checks)".to_owned()
        } else {
            "  dev tokens:   refused (start with --disable-auth-checks to accept dev_token / devToken)"
                .to_owned()
        },
    ];
    lines
}

//! Uploads end to end: `send_file`/`send_image` from readers and paths, the bytes fetched
//! back byte for byte, a message carrying the attachment, progress on the client's
//! executor, cancelling mid-upload, the server's refusals (413/22, 4, 17), concurrent
//! uploads, deletion, and the process's memory during a 50 MB upload.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::process::own_process;
use crate::support::*;
use stream_chat_client::{
    ChatClient, ChatError, ErrorKind, Executor, Message, ProgressCallback, Upload, UploadedFile,
    User, codes,
};
use stream_chat_server::{Server, ServerHandle};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| ((i * 31 + i / 251) as u8) ^ seed)
        .collect()
}

fn fetch(url: &str) -> (u16, Vec<u8>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent.get(url).call().unwrap();
    let bytes = response
        .body_mut()
        .with_config()
        .limit(100 * 1024 * 1024)
        .read_to_vec()
        .unwrap();
    (response.status().as_u16(), bytes)
}

/// A watched livestream channel (any user may upload there).
fn channel(client: &ChatClient, id: &str) -> stream_chat_client::ChannelClient {
    let channel = client.channel("livestream", id).unwrap();
    channel.watch().execute().into_result().unwrap();
    channel
}

/// What a progress callback saw, in order, with when.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Progress(u64, Option<u64>),
    Success(String),
    Error(ErrorKind),
}

#[derive(Clone, Default)]
struct Recorder {
    seen: Arc<Mutex<Vec<(Instant, Seen, String)>>>,
    tx: Option<crossbeam_channel::Sender<Seen>>,
}

impl Recorder {
    fn new() -> (Recorder, crossbeam_channel::Receiver<Seen>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        (
            Recorder {
                seen: Arc::default(),
                tx: Some(tx),
            },
            rx,
        )
    }

    fn record(&self, seen: Seen) {
        let thread = std::thread::current().name().unwrap_or("").to_owned();
        self.seen
            .lock()
            .unwrap()
            .push((Instant::now(), seen.clone(), thread));
        if let Some(tx) = &self.tx {
            let _ = tx.send(seen);
        }
    }

    fn seen(&self) -> Vec<(Instant, Seen, String)> {
        self.seen.lock().unwrap().clone()
    }
}

impl ProgressCallback for Recorder {
    fn on_progress(&self, sent: u64, total: Option<u64>) {
        self.record(Seen::Progress(sent, total));
    }
    fn on_success(&self, file: &UploadedFile) {
        self.record(Seen::Success(file.file.clone()));
    }
    fn on_error(&self, error: &ChatError) {
        self.record(Seen::Error(error.kind()));
    }
}

/// Waits for the end (success or error) a recorder reports.
fn wait_end(rx: &crossbeam_channel::Receiver<Seen>) -> Seen {
    loop {
        match rx.recv_timeout(WAIT).expect("the upload ends") {
            Seen::Progress(..) => {}
            end => return end,
        }
    }
}

#[test]
fn files_of_0_1_and_many_bytes_come_back_byte_for_byte_and_ride_in_a_message() {
    let server = server();
    let client = connected(&server, "bender");
    let channel = channel(&client, "files");
    for bytes in [Vec::new(), vec![7u8], pattern(700 * 1024, 3)] {
        let len = bytes.len();
        let file = channel
            .send_file(Upload::from_bytes(bytes.clone(), "blob.bin"))
            .execute()
            .into_result()
            .unwrap();
        assert!(file.file.starts_with(&server.base_url()), "{}", file.file);
        let (status, served) = fetch(&file.file);
        assert_eq!(status, 200);
        assert!(served == bytes, "{len} bytes come back unchanged");
    }
    // From a path, with a progress callback, and into a message.
    let dir = std::env::temp_dir().join(format!("stream-sdk-up-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("notes.txt");
    std::fs::write(&path, b"remember the milk").unwrap();
    let (recorder, rx) = Recorder::new();
    let file = channel
        .send_file(Upload::from_path(&path).on_progress(recorder.clone()))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(wait_end(&rx), Seen::Success(file.file.clone()));
    let seen: Vec<Seen> = recorder.seen().into_iter().map(|s| s.1).collect();
    assert_eq!(
        seen,
        [
            Seen::Progress(17, Some(17)),
            Seen::Success(file.file.clone())
        ]
    );
    assert_eq!(fetch(&file.file).1, b"remember the milk");
    let mut message = Message::with_text("see attached");
    message.attachments = Some(vec![file.file_attachment("notes.txt", "text/plain", 17)]);
    let sent = channel
        .send_message(message)
        .execute()
        .into_result()
        .unwrap();
    let got = channel
        .get_message(&sent.id)
        .execute()
        .into_result()
        .unwrap();
    let attachment = &got.attachments.unwrap()[0];
    assert_eq!(attachment["asset_url"], file.file.as_str());
    assert_eq!(attachment["type"], "file");
    let (status, served) = fetch(attachment["asset_url"].as_str().unwrap());
    assert_eq!(
        (status, served.as_slice()),
        (200, &b"remember the milk"[..])
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn images_are_checked_and_the_refusals_keep_streams_code() {
    let server = Server::builder()
        .max_upload_bytes(256 * 1024)
        .start()
        .unwrap();
    let client = connected(&server, "bender");
    let channel = channel(&client, "images");
    let image = channel
        .send_image(Upload::from_bytes(PNG.to_vec(), "dot.png"))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(fetch(&image.file).1, PNG);
    let (recorder, rx) = Recorder::new();
    let err = channel
        .send_image(Upload::from_bytes(b"GIF? no".to_vec(), "x.gif").on_progress(recorder))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(codes::INPUT), Some(400))
    );
    assert_eq!(wait_end(&rx), Seen::Error(ErrorKind::Api));
    let err = channel
        .send_file(Upload::from_reader(
            std::io::repeat(1).take(1024 * 1024),
            "big",
            Some(1024 * 1024),
        ))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(codes::PAYLOAD_TOO_BIG), "{err}");
    assert_eq!(err.status_code(), Some(413));
    // Without a declared length the body is chunked; the limit holds the same.
    let err = channel
        .send_file(Upload::from_reader(
            std::io::repeat(1).take(1024 * 1024),
            "big",
            None,
        ))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(err.stream_code(), Some(codes::PAYLOAD_TOO_BIG), "{err}");
    let chunked = channel
        .send_file(Upload::from_reader(&b"chunked"[..], "c.txt", None))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(fetch(&chunked.file).1, b"chunked");
    // The server keeps serving this client.
    channel
        .send_message(Message::with_text("still here"))
        .execute()
        .into_result()
        .unwrap();
}

#[test]
fn anonymous_users_may_not_upload() {
    let server = server();
    let user = connected(&server, "fry");
    channel(&user, "anon");
    let anonymous = client(&server);
    anonymous
        .connect_anonymous_user()
        .execute()
        .into_result()
        .unwrap();
    let channel = channel(&anonymous, "anon");
    let err = channel
        .send_file(Upload::from_bytes(vec![1], "a"))
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        (err.stream_code(), err.status_code()),
        (Some(codes::NOT_ALLOWED), Some(403))
    );
}

fn channel_of(client: &ChatClient, id: &str) -> stream_chat_client::ChannelClient {
    client.channel("livestream", id).unwrap()
}

/// A reader that gives `block` bytes per read, each read waiting `pace` (a slow disk), and
/// tells when it is first read.
struct Paced {
    left: u64,
    pace: Duration,
    started: Option<crossbeam_channel::Sender<()>>,
    gate: Option<crossbeam_channel::Receiver<()>>,
}

impl Read for Paced {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(tx) = self.started.take() {
            let _ = tx.send(());
        }
        if let Some(gate) = &self.gate {
            // Held until the test lets go (drops the sender).
            let _ = gate.recv();
        }
        if self.left == 0 {
            return Ok(0);
        }
        std::thread::sleep(self.pace);
        let n = buf.len().min(64 * 1024).min(self.left as usize);
        buf[..n].fill(0xab);
        self.left -= n as u64;
        Ok(n)
    }
}

#[test]
fn progress_runs_on_the_executor_in_order_at_most_every_100_ms() {
    let server = server();
    // A callback executor with one named thread of its own.
    let (task_tx, task_rx) = crossbeam_channel::unbounded::<Box<dyn FnOnce() + Send>>();
    std::thread::Builder::new()
        .name("test-executor".into())
        .spawn(move || {
            for task in task_rx {
                task();
            }
        })
        .unwrap();
    let executor = Executor::from_fn(move |task| {
        let _ = task_tx.send(task);
    });
    let client = builder(&server)
        .callback_executor(executor)
        .build()
        .unwrap();
    client
        .connect_user(User::new("bender"), server.create_token("bender", None))
        .execute()
        .into_result()
        .unwrap();
    let channel = channel(&client, "progress");
    let size: u64 = 3 * 1024 * 1024;
    let (recorder, rx) = Recorder::new();
    let reader = Paced {
        left: size,
        pace: Duration::from_millis(8),
        started: None,
        gate: None,
    };
    let started = Instant::now();
    let file = channel
        .send_file(
            Upload::from_reader(reader, "paced.bin", Some(size)).on_progress(recorder.clone()),
        )
        .execute()
        .into_result()
        .unwrap();
    let took = started.elapsed();
    assert_eq!(wait_end(&rx), Seen::Success(file.file));
    let seen = recorder.seen();
    assert!(
        seen.iter().all(|(_, _, thread)| thread == "test-executor"),
        "{seen:?}"
    );
    let counts: Vec<u64> = seen
        .iter()
        .filter_map(|(_, s, _)| match s {
            Seen::Progress(sent, total) => {
                assert_eq!(*total, Some(size));
                Some(*sent)
            }
            _ => None,
        })
        .collect();
    assert!(
        counts.len() >= 2,
        "reports while sending, then the final one: {counts:?}"
    );
    assert!(
        counts.windows(2).all(|w| w[0] < w[1]),
        "in order: {counts:?}"
    );
    assert_eq!(
        *counts.last().unwrap(),
        size,
        "the final report has every byte"
    );
    let most = took.as_millis() as usize / 100 + 2;
    assert!(counts.len() <= most, "{} reports in {took:?}", counts.len());
    assert!(
        matches!(seen.last().unwrap().1, Seen::Success(_)),
        "the end comes last"
    );
}

#[test]
fn a_cancelled_upload_closes_its_request_and_reports_cancelled_once() {
    let server = server();
    let client = connected(&server, "bender");
    let channel = channel(&client, "cancel");
    let (started_tx, started_rx) = crossbeam_channel::bounded(1);
    let (gate_tx, gate_rx) = crossbeam_channel::bounded::<()>(0);
    let reader = Paced {
        left: 8 * 1024 * 1024,
        pace: Duration::ZERO,
        started: Some(started_tx),
        gate: Some(gate_rx),
    };
    let (recorder, rx) = Recorder::new();
    let call = channel.send_file(
        Upload::from_reader(reader, "never.bin", Some(8 * 1024 * 1024))
            .on_progress(recorder.clone()),
    );
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    call.enqueue(move |r| done_tx.send(r).unwrap());
    started_rx
        .recv_timeout(WAIT)
        .expect("the upload starts reading");
    call.cancel();
    drop(gate_tx); // the reader may go on: the next read sees the cancel
    assert_eq!(wait_end(&rx), Seen::Error(ErrorKind::Cancelled));
    let seen = recorder.seen();
    drop((call, recorder));
    // Both channels disconnect once the upload's run ended (its request closed), with
    // nothing more on either: no second report, and no callback for a cancelled call.
    assert_silent(&rx);
    assert_silent(&done_rx);
    let errors = seen
        .iter()
        .filter(|s| matches!(s.1, Seen::Error(_)))
        .count();
    assert_eq!(errors, 1);
    // The client and server go on.
    let file = channel
        .send_file(Upload::from_bytes(vec![5; 10], "after.bin"))
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(fetch(&file.file).1, vec![5; 10]);
}

/// A cancel that comes before the upload started (the call queued, or not even enqueued)
/// still ends the progress callback, once, with `Cancelled`: the work never runs, so the
/// call itself tells it.
#[test]
fn a_cancel_before_the_upload_starts_still_reports_cancelled_once() {
    let server = server();
    let client = connected(&server, "bender");
    let channel = channel(&client, "early");
    let (recorder, rx) = Recorder::new();
    let call = channel
        .send_file(Upload::from_bytes(vec![1; 10], "early.bin").on_progress(recorder.clone()));
    call.cancel();
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    call.enqueue(move |r| done_tx.send(r).unwrap());
    assert_eq!(wait_end(&rx), Seen::Error(ErrorKind::Cancelled));
    call.cancel();
    let seen = recorder.seen();
    drop((call, recorder));
    assert_silent(&rx);
    assert_silent(&done_rx);
    assert_eq!(seen.len(), 1, "{seen:?}");
}

#[test]
fn concurrent_uploads_and_deletes() {
    let server = server();
    let client = connected(&server, "bender");
    let channel = channel(&client, "many");
    let (tx, rx) = crossbeam_channel::unbounded();
    for i in 0..6u8 {
        let bytes = pattern(200 * 1024 + usize::from(i) * 1000, i);
        let tx = tx.clone();
        channel
            .send_file(Upload::from_bytes(bytes.clone(), format!("f{i}")))
            .enqueue(move |r| tx.send((bytes, r)).unwrap());
    }
    drop(tx);
    let mut urls = Vec::new();
    for _ in 0..6 {
        let (bytes, result) = rx.recv_timeout(WAIT).unwrap();
        let file = result.into_result().unwrap();
        assert!(fetch(&file.file).1 == bytes);
        urls.push(file.file);
    }
    let other = connected(&server, "fry");
    let err = channel_of(&other, "many")
        .delete_file(&urls[0])
        .execute()
        .into_result()
        .unwrap_err();
    assert_eq!(
        err.stream_code(),
        Some(codes::NOT_ALLOWED),
        "not fry's file"
    );
    channel
        .delete_file(&urls[0])
        .execute()
        .into_result()
        .unwrap();
    assert_eq!(fetch(&urls[0]).0, 404);
    assert_eq!(fetch(&urls[1]).0, 200);
}

fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// 50 MiB from a generating reader to a server keeping files on disk: the process (client
/// and in-process server together) stays flat, because the client streams the body and the
/// server writes blocks as they come. Prints the throughput and the peak for the report.
/// This test runs in a process of its own, so no other test's allocations count.
#[test]
fn a_50_mb_upload_streams_with_flat_memory() {
    own_process!(a_50_mb_upload_streams_with_flat_memory);
    fifty_mb_upload();
}

fn fifty_mb_upload() {
    const SIZE: u64 = 50 * 1024 * 1024;
    let dir = std::env::temp_dir().join(format!("stream-sdk-50mb-{}", std::process::id()));
    let server: ServerHandle = Server::builder().data_dir(&dir).start().unwrap();
    let client = connected(&server, "bender");
    let channel = channel(&client, "big");
    // Warm up: the first upload sets up threads and allocator arenas on both sides.
    channel
        .send_file(Upload::from_reader(
            std::io::repeat(1).take(4 << 20),
            "warm",
            Some(4 << 20),
        ))
        .execute()
        .into_result()
        .unwrap();
    let (idle, _) = rss_kib();
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let started = Instant::now();
    let reports = Arc::new(Mutex::new(0u32));
    let counted = Arc::clone(&reports);
    let file = channel
        .send_file(
            Upload::from_reader(std::io::repeat(0x5a).take(SIZE), "fifty.bin", Some(SIZE))
                .on_progress(move |_, _| *counted.lock().unwrap() += 1),
        )
        .execute()
        .into_result()
        .unwrap();
    let took = started.elapsed();
    let (_, peak) = rss_kib();
    let grew = peak.saturating_sub(idle) as f64 / 1024.0;
    println!(
        "client+server: 50 MiB upload in {took:.2?} ({:.0} MiB/s), RSS idle {} MiB, peak +{grew:.1} MiB, {} progress reports",
        50.0 / took.as_secs_f64(),
        idle / 1024,
        reports.lock().unwrap()
    );
    assert!(
        grew < 16.0,
        "the process grew {grew:.1} MiB for a 50 MiB upload"
    );
    assert!(file.file.ends_with("/fifty.bin"));
    std::fs::remove_dir_all(dir).unwrap();
}

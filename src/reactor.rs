//! The reactor: a few threads that run every non-blocking socket of the process, so the
//! thread count does not grow with the number of connections (issue 14).
//!
//! Each thread owns a `mio::Poll` and the [`Task`]s placed on it. A task is a state
//! machine (a WebSocket connection, in `connection/socket.rs`) that the thread steps when
//! one of its sockets is ready, when its deadline passes, or when a [`Mailbox`] message
//! arrives (from a blocking job on the shared pool, or a stop). Nothing here knows chat:
//! tasks register their own sockets with the [`Cx`] they are handed, and say when they
//! want to be woken and when they are done. A task that panics is told so and removed
//! if it panics again; the thread and the other tasks go on.

use std::any::Any;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use mio::{Events, Poll, Registry, Token, Waker};

/// The token of each thread's waker; tasks get the others.
const WAKER: Token = Token(usize::MAX);
/// Readiness events taken per `poll`.
const EVENTS: usize = 1024;

/// A message to a task, delivered on its thread.
pub(crate) type Message = Box<dyn Any + Send>;

/// A state machine the reactor steps. Every method runs on the task's reactor thread,
/// never two at once; none may block.
pub(crate) trait Task: Send + 'static {
    /// The first step, right after the task was placed.
    fn start(&mut self, cx: &mut Cx<'_>);
    /// A socket registered with [`Cx::token`] is ready.
    fn ready(&mut self, cx: &mut Cx<'_>, readable: bool, writable: bool);
    /// The deadline set with [`Cx::wake_at`] has passed.
    fn timer(&mut self, cx: &mut Cx<'_>);
    /// A message sent through the task's [`Mailbox`].
    fn message(&mut self, cx: &mut Cx<'_>, message: Message);
    /// A step panicked with `why`: the task is to clean up and go on or end (it is
    /// removed if this panics too).
    fn panicked(&mut self, cx: &mut Cx<'_>, why: String);
}

/// What a task can do while it is stepped.
pub(crate) struct Cx<'a> {
    registry: &'a Registry,
    token: Token,
    mailbox: &'a Mailbox,
    wake_at: Option<Instant>,
    done: bool,
}

impl Cx<'_> {
    /// Where the task registers its sockets (with [`token`](Self::token)).
    pub(crate) fn registry(&self) -> &Registry {
        self.registry
    }

    /// The token of this task's sockets.
    pub(crate) fn token(&self) -> Token {
        self.token
    }

    /// A mailbox that reaches this task from any thread.
    pub(crate) fn mailbox(&self) -> Mailbox {
        self.mailbox.clone()
    }

    /// Calls [`Task::timer`] at `at` (replacing an earlier deadline); `None`: no timer.
    pub(crate) fn wake_at(&mut self, at: Option<Instant>) {
        self.wake_at = at;
    }

    /// Calls [`Task::timer`] at `at` or earlier: keeps an earlier deadline already set. For
    /// a deadline that moves later often (a silence check pushed back by every frame),
    /// where re-arming each time would pile up stale timers; the task's timer then finds
    /// nothing due and arms the current deadline.
    pub(crate) fn wake_by(&mut self, at: Instant) {
        self.wake_at = Some(self.wake_at.map_or(at, |armed| armed.min(at)));
    }

    /// The task has ended: it is dropped after this step (with its sockets).
    pub(crate) fn done(&mut self) {
        self.done = true;
    }
}

enum Command {
    Place(usize, Box<dyn Task>),
    Deliver(usize, Message),
}

/// Sends messages to one task; a message to a task that has ended is dropped.
#[derive(Clone)]
pub(crate) struct Mailbox {
    key: usize,
    thread: Arc<Thread>,
}

impl Mailbox {
    /// Delivers `message` to the task on its thread; false when the reactor is gone.
    pub(crate) fn send(&self, message: Message) -> bool {
        self.thread.send(Command::Deliver(self.key, message))
    }
}

struct Thread {
    commands: Sender<Command>,
    waker: Waker,
}

impl Thread {
    fn send(&self, command: Command) -> bool {
        self.commands.send(command).is_ok() && self.waker.wake().is_ok()
    }
}

/// The process's reactor threads (see the module docs).
pub(crate) struct Reactor {
    threads: Vec<Arc<Thread>>,
    next_key: AtomicUsize,
}

impl Reactor {
    /// Starts `threads` reactor threads named `name`.
    pub(crate) fn start(threads: usize, name: &str) -> std::io::Result<Reactor> {
        let mut started = Vec::new();
        for _ in 0..threads.max(1) {
            let poll = Poll::new()?;
            let waker = Waker::new(poll.registry(), WAKER)?;
            let (tx, rx) = crossbeam_channel::unbounded();
            let thread = Arc::new(Thread {
                commands: tx,
                waker,
            });
            let mailbox_thread = Arc::clone(&thread);
            std::thread::Builder::new()
                .name(name.to_owned())
                .spawn(move || run(poll, &rx, &mailbox_thread))?;
            started.push(thread);
        }
        Ok(Reactor {
            threads: started,
            next_key: AtomicUsize::new(0),
        })
    }

    /// Places `task` on one of the threads (round robin) and starts it there.
    pub(crate) fn place(&self, task: Box<dyn Task>) -> std::io::Result<()> {
        let key = self.next_key.fetch_add(1, Ordering::Relaxed) % (usize::MAX - 1);
        let thread = &self.threads[key % self.threads.len()];
        if thread.send(Command::Place(key, task)) {
            Ok(())
        } else {
            Err(std::io::Error::other("the reactor thread has ended"))
        }
    }
}

struct Entry {
    task: Box<dyn Task>,
    wake_at: Option<Instant>,
}

/// One reactor thread: polls, steps the ready tasks, then the due timers.
fn run(mut poll: Poll, commands: &Receiver<Command>, thread: &Arc<Thread>) {
    let mut events = Events::with_capacity(EVENTS);
    let mut tasks = Tasks {
        entries: HashMap::new(),
        timers: BinaryHeap::new(),
        thread: Arc::clone(thread),
    };
    loop {
        let timeout = tasks.timers.peek().map(|Reverse((at, _))| {
            at.saturating_duration_since(Instant::now())
                .max(Duration::from_micros(1))
        });
        if let Err(e) = poll.poll(&mut events, timeout)
            && e.kind() != std::io::ErrorKind::Interrupted
        {
            log::error!("the reactor's poll failed: {e}");
        }
        let registry = poll.registry();
        for event in &events {
            if event.token() == WAKER {
                continue;
            }
            let readable = event.is_readable() || event.is_read_closed() || event.is_error();
            let writable = event.is_writable() || event.is_write_closed();
            tasks.step(registry, event.token().0, Step::Ready(readable, writable));
        }
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Place(key, task) => {
                    tasks.entries.insert(
                        key,
                        Entry {
                            task,
                            wake_at: None,
                        },
                    );
                    tasks.step(registry, key, Step::Start);
                }
                Command::Deliver(key, message) => {
                    tasks.step(registry, key, Step::Message(message));
                }
            }
        }
        let now = Instant::now();
        while let Some(&Reverse((at, key))) = tasks.timers.peek() {
            if at > now {
                break;
            }
            tasks.timers.pop();
            if let Some(entry) = tasks.entries.get_mut(&key)
                && entry.wake_at == Some(at)
            {
                entry.wake_at = None;
                tasks.step(registry, key, Step::Timer);
            }
        }
    }
}

/// The tasks of one thread and their deadlines.
struct Tasks {
    entries: HashMap<usize, Entry>,
    /// Deadlines, earliest first; an entry whose task has another deadline by now is stale.
    timers: BinaryHeap<Reverse<(Instant, usize)>>,
    thread: Arc<Thread>,
}

impl Tasks {
    /// Steps task `key` (if it is still there), then applies what it asked for.
    fn step(&mut self, registry: &Registry, key: usize, what: Step) {
        let Some(entry) = self.entries.get_mut(&key) else {
            return;
        };
        let mailbox = Mailbox {
            key,
            thread: Arc::clone(&self.thread),
        };
        let mut cx = Cx {
            registry,
            token: Token(key),
            mailbox: &mailbox,
            wake_at: entry.wake_at,
            done: false,
        };
        let task = &mut entry.task;
        let outcome = catch_unwind(AssertUnwindSafe(|| match what {
            Step::Start => task.start(&mut cx),
            Step::Ready(r, w) => task.ready(&mut cx, r, w),
            Step::Timer => task.timer(&mut cx),
            Step::Message(m) => task.message(&mut cx, m),
        }));
        if let Err(payload) = outcome {
            let why = panic_text(&*payload);
            log::error!("a reactor task panicked: {why}");
            cx.done = false;
            cx.wake_at = None;
            let again = catch_unwind(AssertUnwindSafe(|| task.panicked(&mut cx, why)));
            if again.is_err() {
                cx.done = true;
            }
        }
        if cx.done {
            self.entries.remove(&key);
            return;
        }
        if cx.wake_at != entry.wake_at {
            entry.wake_at = cx.wake_at;
            if let Some(at) = cx.wake_at {
                self.timers.push(Reverse((at, key)));
            }
        }
    }
}

enum Step {
    Start,
    Ready(bool, bool),
    Timer,
    Message(Message),
}

fn panic_text(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic".to_owned())
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    use crossbeam_channel::{Sender, unbounded};
    use mio::Interest;

    use super::*;

    const WAIT: Duration = Duration::from_secs(10);

    /// Reports what it is stepped for; panics on the message "panic".
    struct Probe {
        seen: Sender<String>,
        at: Instant,
        socket: Option<mio::net::TcpStream>,
    }

    impl Task for Probe {
        fn start(&mut self, cx: &mut Cx<'_>) {
            if let Some(socket) = self.socket.as_mut() {
                cx.registry()
                    .register(socket, cx.token(), Interest::READABLE)
                    .unwrap();
            }
            cx.wake_at(Some(self.at + Duration::from_secs(3600)));
            // An earlier deadline wins over the later one set just before.
            cx.wake_by(self.at);
            self.seen.send("start".into()).unwrap();
        }

        fn ready(&mut self, _: &mut Cx<'_>, readable: bool, _: bool) {
            let mut buf = [0u8; 16];
            let n = self
                .socket
                .as_mut()
                .map_or(0, |s| s.read(&mut buf).unwrap_or(0));
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen.send(format!("ready {readable} {text}")).unwrap();
        }

        fn timer(&mut self, _: &mut Cx<'_>) {
            let early = Instant::now() < self.at;
            self.seen.send(format!("timer early={early}")).unwrap();
        }

        fn message(&mut self, cx: &mut Cx<'_>, message: Message) {
            let text = *message.downcast::<&str>().unwrap();
            if text == "panic" {
                panic!("asked to");
            }
            if text == "done" {
                return cx.done();
            }
            self.seen.send(format!("message {text}")).unwrap();
        }

        fn panicked(&mut self, _: &mut Cx<'_>, why: String) {
            self.seen.send(format!("panicked {why}")).unwrap();
        }
    }

    fn next(rx: &crossbeam_channel::Receiver<String>) -> String {
        rx.recv_timeout(WAIT).expect("the task was stepped")
    }

    #[test]
    fn a_timer_fires_at_the_earlier_deadline_and_readiness_steps_the_task() {
        let reactor = Reactor::start(1, "reactor-test").unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (ours, _) = listener.accept().unwrap();
        ours.set_nonblocking(true).unwrap();
        let (tx, rx) = unbounded();
        let started = Instant::now();
        let task = Probe {
            seen: tx,
            at: started + Duration::from_millis(50),
            socket: Some(mio::net::TcpStream::from_std(ours)),
        };
        reactor.place(Box::new(task)).unwrap();
        assert_eq!(next(&rx), "start");
        // Not before its deadline, and the earlier of the two.
        assert_eq!(next(&rx), "timer early=false");
        assert!(started.elapsed() < Duration::from_secs(5));

        peer.write_all(b"hi").unwrap();
        assert_eq!(next(&rx), "ready true hi");
        assert!(rx.try_recv().is_err(), "one readiness, one step");
    }

    #[test]
    fn a_panicking_step_is_reported_and_the_thread_serves_on() {
        let reactor = Reactor::start(1, "reactor-test").unwrap();
        let (tx, rx) = unbounded();
        let far = Instant::now() + Duration::from_secs(3600);
        reactor
            .place(Box::new(Probe {
                seen: tx.clone(),
                at: far,
                socket: None,
            }))
            .unwrap();
        assert_eq!(next(&rx), "start");
        let mailbox = Mailbox {
            key: 0,
            thread: Arc::clone(&reactor.threads[0]),
        };
        assert!(mailbox.send(Box::new("panic")));
        assert_eq!(next(&rx), "panicked asked to");
        assert!(mailbox.send(Box::new("hello")));
        assert_eq!(next(&rx), "message hello");
        assert!(mailbox.send(Box::new("done")));
        // A message to a task that has ended is dropped; another task still runs.
        assert!(mailbox.send(Box::new("hello")));
        reactor
            .place(Box::new(Probe {
                seen: tx,
                at: far,
                socket: None,
            }))
            .unwrap();
        assert_eq!(next(&rx), "start");
        assert!(rx.try_recv().is_err(), "{:?}", rx.try_recv());
    }
}

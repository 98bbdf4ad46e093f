//! Where log lines go: a shared buffer that a background thread writes out in large batches.
//!
//! Threads that log append whole lines under a short lock and go on; the `log-writer` thread
//! wakes when lines are waiting, lets them gather for up to [`GATHER_FOR`] (or until
//! [`BATCH_BYTES`] are waiting), and writes them with one call. A channel with a message per
//! line (as in `tracing-appender`'s non-blocking writer) costs an allocation and a send per line
//! and wakes the writer far more often; docs/benchmarks/README.md has the measurement.
//!
//! Nothing is dropped: when [`MAX_WAITING_BYTES`] are waiting, threads that log wait for the
//! writer, so a logger that falls behind slows the requests down instead. Lines are written whole
//! and in the order they were appended.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// Longest a line waits before it is written.
pub const GATHER_FOR: Duration = Duration::from_millis(20);

/// Waiting bytes that wake the writer at once.
pub const BATCH_BYTES: usize = 64 << 10;

/// Waiting bytes at which threads that log wait for the writer.
pub const MAX_WAITING_BYTES: usize = 8 << 20;

struct Shared {
    state: Mutex<State>,
    /// Signalled when lines arrive in an empty buffer, when a batch is full, and at shutdown.
    lines_waiting: Condvar,
    /// Signalled when the writer has taken the waiting lines.
    room: Condvar,
}

#[derive(Default)]
struct State {
    waiting: Vec<u8>,
    closing: bool,
}

/// A handle for appending lines; cheap to clone.
#[derive(Clone)]
pub struct LogSink(Arc<Shared>);

/// Stops the writer thread when dropped, after it has written every line appended before.
#[must_use = "lines still waiting are written when the guard is dropped"]
pub struct SinkGuard {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

impl LogSink {
    /// A sink whose lines a new `log-writer` thread writes to `out`.
    pub fn start(out: impl Write + Send + 'static) -> std::io::Result<(LogSink, SinkGuard)> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            lines_waiting: Condvar::new(),
            room: Condvar::new(),
        });
        let writer = std::thread::Builder::new()
            .name("log-writer".into())
            .spawn({
                let shared = shared.clone();
                move || write_batches(&shared, out)
            })?;
        Ok((
            LogSink(shared.clone()),
            SinkGuard {
                shared,
                writer: Some(writer),
            },
        ))
    }

    /// Appends `line` (whole lines, newline included).
    pub fn append(&self, line: &[u8]) {
        let mut state = lock(&self.0.state);
        while state.waiting.len() >= MAX_WAITING_BYTES && !state.closing {
            state = self
                .0
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        let was_empty = state.waiting.is_empty();
        state.waiting.extend_from_slice(line);
        let batch_full = state.waiting.len() >= BATCH_BYTES;
        drop(state);
        if was_empty || batch_full {
            self.0.lines_waiting.notify_one();
        }
    }
}

impl Drop for SinkGuard {
    fn drop(&mut self) {
        lock(&self.shared.state).closing = true;
        self.shared.lines_waiting.notify_one();
        self.shared.room.notify_all();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock leaves at worst a partial batch of whole lines.
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer thread: waits for lines, lets them gather, writes them; until closing.
fn write_batches(shared: &Shared, mut out: impl Write) {
    let mut batch = Vec::with_capacity(BATCH_BYTES);
    loop {
        let mut state = lock(&shared.state);
        while state.waiting.is_empty() && !state.closing {
            state = shared
                .lines_waiting
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        if !state.closing && state.waiting.len() < BATCH_BYTES {
            state = shared
                .lines_waiting
                .wait_timeout_while(state, GATHER_FOR, |state| {
                    state.waiting.len() < BATCH_BYTES && !state.closing
                })
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        std::mem::swap(&mut batch, &mut state.waiting);
        let closing = state.closing;
        drop(state);
        shared.room.notify_all();
        // Nowhere to report a failed write of the log: the lines are lost, the server goes on.
        let _ = out.write_all(&batch).and_then(|()| out.flush());
        batch.clear();
        if closing && lock(&shared.state).waiting.is_empty() {
            return;
        }
    }
}

/// What `tracing` writes each event through: the fmt layer formats an event, then writes it
/// with one `write_all`, so each write is one whole line.
pub struct SinkWriter<'a>(&'a LogSink);

impl Write for SinkWriter<'_> {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        self.0.append(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogSink {
    type Writer = SinkWriter<'a>;

    fn make_writer(&'a self) -> SinkWriter<'a> {
        SinkWriter(self)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Instant;

    use super::*;

    /// An output that reports each write.
    struct Recorder(mpsc::Sender<Vec<u8>>);

    impl Write for Recorder {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.send(bytes.to_vec());
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_soon_in_order_and_batched() {
        let (sender, writes) = mpsc::channel();
        let (sink, guard) = LogSink::start(Recorder(sender)).unwrap();
        let started = Instant::now();
        for index in 0..1000 {
            sink.append(format!("line {index}\n").as_bytes());
        }
        let mut written = Vec::new();
        let mut batches = 0;
        while written.len() < 1000 {
            let batch = writes
                .recv_timeout(Duration::from_secs(5))
                .expect("written");
            written.extend(String::from_utf8(batch).unwrap().lines().map(str::to_owned));
            batches += 1;
        }
        assert!(started.elapsed() < Duration::from_secs(2));
        let expected: Vec<String> = (0..1000).map(|index| format!("line {index}")).collect();
        assert_eq!(written, expected);
        assert!(batches < 100, "{batches} writes for 1000 lines");
        drop(guard);
    }

    #[test]
    fn lines_still_waiting_are_written_when_the_guard_drops() {
        let (sender, writes) = mpsc::channel();
        let (sink, guard) = LogSink::start(Recorder(sender)).unwrap();
        for index in 0..100_000 {
            sink.append(format!("line {index}\n").as_bytes());
        }
        drop(guard);
        let written: String = writes
            .try_iter()
            .map(|batch| String::from_utf8(batch).unwrap())
            .collect();
        assert_eq!(written.lines().count(), 100_000);
        assert!(written.ends_with("line 99999\n"));
    }

    #[test]
    fn writers_wait_for_room_instead_of_dropping_lines() {
        /// An output that takes a while per write.
        struct Slow(Arc<Mutex<usize>>);
        impl Write for Slow {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                std::thread::sleep(Duration::from_millis(5));
                *self.0.lock().unwrap() += bytes.len();
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let total = Arc::new(Mutex::new(0));
        let (sink, guard) = LogSink::start(Slow(total.clone())).unwrap();
        let line = vec![b'x'; 1 << 20];
        for _ in 0..40 {
            sink.append(&line);
            assert!(lock(&sink.0.state).waiting.len() <= MAX_WAITING_BYTES + line.len());
        }
        drop(guard);
        assert_eq!(*total.lock().unwrap(), 40 << 20);
    }
}

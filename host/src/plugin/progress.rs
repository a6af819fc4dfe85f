//! A progress line on stderr while large components compile (Python and JS
//! components take seconds), shown only when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Components smaller than this compile too fast to need a progress line.
pub const PROGRESS_MIN_BYTES: usize = 4 * 1024 * 1024;

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(200);

struct Board {
    /// What is compiling: (file name, size, started).
    jobs: Vec<(u64, String, usize, Instant)>,
    next: u64,
    drawing: bool,
}

static BOARD: Mutex<Board> = Mutex::new(Board {
    jobs: Vec::new(),
    next: 0,
    drawing: false,
});

/// Shows one compilation on the progress line until dropped.
pub struct Compiling(Option<u64>);

impl Compiling {
    pub fn start(name: &str, size: usize) -> Self {
        if size < PROGRESS_MIN_BYTES || !std::io::stderr().is_terminal() {
            return Compiling(None);
        }
        let mut board = BOARD.lock().unwrap_or_else(|e| e.into_inner());
        let id = board.next;
        board.next += 1;
        board.jobs.push((id, name.to_owned(), size, Instant::now()));
        if !board.drawing {
            board.drawing = true;
            std::thread::spawn(draw);
        }
        Compiling(Some(id))
    }
}

impl Drop for Compiling {
    fn drop(&mut self) {
        if let Some(id) = self.0 {
            let mut board = BOARD.lock().unwrap_or_else(|e| e.into_inner());
            board.jobs.retain(|(j, ..)| *j != id);
        }
    }
}

/// Redraw the line until nothing is compiling, then clear it.
fn draw() {
    for tick in 0usize.. {
        std::thread::sleep(TICK);
        let mut board = BOARD.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        if board.jobs.is_empty() {
            board.drawing = false;
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            return;
        }
        let jobs: Vec<String> = board
            .jobs
            .iter()
            .map(|(_, name, size, started)| {
                format!(
                    "{name} ({:.1} MB, {:.1}s)",
                    *size as f64 / 1e6,
                    started.elapsed().as_secs_f64()
                )
            })
            .collect();
        let spinner = ['|', '/', '-', '\\'][tick % 4];
        let _ = write!(err, "\r\x1b[2K{spinner} compiling {}", jobs.join(", "));
        let _ = err.flush();
    }
}

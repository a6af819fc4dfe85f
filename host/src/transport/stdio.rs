//! This process's stdin and stdout as an async byte pipe, moved by two
//! plain threads.
//!
//! tokio's own `stdin()`/`stdout()` hand every read and every write to its
//! blocking pool, which costs a thread wake-up per message each way. Here one
//! thread reads stdin in large chunks and one writes stdout, each draining
//! whatever has piled up at once, so a burst of pipelined requests costs a
//! few wake-ups rather than one per message. Both directions go through a
//! bounded in-memory pipe ([`STDIO_PIPE_BYTES`]).

use std::io::{Read, Write};

use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

/// How many bytes may wait in each direction between the threads and the
/// server.
pub const STDIO_PIPE_BYTES: usize = 1024 * 1024;

/// The server's ends: what it reads (stdin) and what it writes (stdout),
/// and the stdout thread, which ends once everything written is flushed.
pub(super) fn pipes() -> (DuplexStream, DuplexStream, std::thread::JoinHandle<()>) {
    let handle = tokio::runtime::Handle::current();
    let (server_in, mut feed) = tokio::io::duplex(STDIO_PIPE_BYTES);
    let (server_out, mut drain) = tokio::io::duplex(STDIO_PIPE_BYTES);
    let reader = handle.clone();
    std::thread::Builder::new()
        .name("corral-stdin".into())
        .spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match stdin.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if reader.block_on(feed.write_all(&buf[..n])).is_err() {
                    break;
                }
            }
            // Dropping `feed` is the server's end of input.
        })
        .expect("spawning the stdin thread");
    let writer = std::thread::Builder::new()
        .name("corral-stdout".into())
        .spawn(move || {
            let mut stdout = std::io::stdout().lock();
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = match handle.block_on(drain.read(&mut buf)) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if stdout
                    .write_all(&buf[..n])
                    .and_then(|()| stdout.flush())
                    .is_err()
                {
                    break;
                }
            }
        })
        .expect("spawning the stdout thread");
    (server_in, server_out, writer)
}

//! A plugin that misbehaves on purpose, to test the host's limits.
//! Not an example: every tool but `echo` tries to break the host.

use std::hint::black_box;
use std::io::Write;
use std::time::Duration;

use corral_sdk::prelude::*;

/// Spins forever without calling the host.
#[tool(task = "optional")]
fn spin() -> String {
    let mut x: u64 = black_box(1);
    loop {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
    }
}

/// Spins forever, asking the host whether the call was cancelled each time
/// (and ignoring the answer).
#[tool]
fn spin_calls() -> String {
    let mut n: u64 = 0;
    loop {
        n = black_box(n.wrapping_add(u64::from(context::cancelled())));
    }
}

/// Sleeps for an hour (blocks in a WASI poll).
#[tool(task = "optional")]
fn sleep_forever() -> String {
    std::thread::sleep(Duration::from_secs(3600));
    "woke up".into()
}

/// Allocates 1 MiB chunks, touches every page and keeps them, forever.
#[tool(task = "optional")]
fn memory_bomb() -> String {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; 1 << 20];
        for i in (0..chunk.len()).step_by(4096) {
            chunk[i] = black_box(1);
        }
        chunks.push(black_box(chunk));
        black_box(&chunks);
    }
}

/// Returns `mib` MiB of `x`.
///
/// # Arguments
/// * `mib` - How many MiB to return
#[tool(task = "optional")]
fn huge_output(mib: u32) -> String {
    "x".repeat(mib as usize * (1 << 20))
}

/// Panics with the message `boom`.
#[tool(task = "optional")]
fn panic() -> String {
    panic!("boom")
}

#[inline(never)]
fn recurse(depth: u64, buf: &mut [u8; 64]) -> u64 {
    if black_box(depth) == u64::MAX {
        return 0; // never true, but keeps the recursion conditional
    }
    let mut local = *black_box(&*buf);
    local[(depth % 64) as usize] = depth as u8;
    let below = recurse(black_box(depth + 1), &mut local);
    black_box(below.wrapping_add(u64::from(local[0])))
}

/// Recurses without end until the stack overflows.
#[tool]
fn deep_recursion() -> String {
    let mut buf = [0u8; 64];
    recurse(black_box(0), &mut buf).to_string()
}

/// Writes lines to stderr forever.
#[tool]
fn stderr_flood() -> String {
    let mut stderr = std::io::stderr();
    let mut i: u64 = 0;
    loop {
        let _ = writeln!(
            stderr,
            "flood line {i}: the quick brown fox jumps over the lazy dog"
        );
        i = i.wrapping_add(1);
    }
}

/// Keeps creating `wasi:http` header fields holding a `kib` KiB value and
/// never drops them: host memory outside the guest's linear memory.
///
/// # Arguments
/// * `kib` - Size of each header value, in KiB
#[tool]
fn fields_flood(kib: u32) -> String {
    use wasip2::http::types::Fields;
    let value = vec![b'x'; kib as usize * 1024];
    let mut kept = Vec::new();
    loop {
        match Fields::from_list(&[("x-flood".to_owned(), value.clone())]) {
            Ok(fields) => kept.push(fields),
            Err(e) => return format!("refused after {} fields: {e:?}", kept.len()),
        }
    }
}

/// Keeps creating outgoing requests (each with its own fields) and never
/// drops them.
#[tool]
fn request_flood() -> String {
    use wasip2::http::types::{Fields, OutgoingRequest};
    let mut kept = Vec::new();
    loop {
        kept.push(OutgoingRequest::new(Fields::new()));
        black_box(&kept);
    }
}

/// Keeps subscribing to the clock and never drops the pollables.
#[tool]
fn pollable_flood() -> String {
    let mut kept = Vec::new();
    loop {
        kept.push(wasip2::clocks::monotonic_clock::subscribe_duration(
            1_000_000_000,
        ));
        black_box(&kept);
    }
}

/// Sends `count` log messages of `kib` KiB each, then writes
/// `log_flood: sent COUNT` to stderr (a sign, in the host log, that it is
/// done sending).
///
/// # Arguments
/// * `count` - How many messages
/// * `kib` - Size of each, in KiB
#[tool]
fn log_flood(count: u32, kib: u32) -> String {
    let line = "l".repeat(kib as usize * 1024);
    for i in 0..count {
        context::info(format!("{i} {line}"));
    }
    eprintln!("log_flood: sent {count}");
    format!("sent {count}")
}

/// Sends `count` progress notifications.
///
/// # Arguments
/// * `count` - How many
#[tool]
fn progress_flood(count: u32) -> String {
    for i in 0..count {
        context::progress(f64::from(i), None, Some("flooding"));
    }
    format!("sent {count}")
}

/// Asks the client a question of `mib` MiB (an elicitation).
///
/// # Arguments
/// * `mib` - Size of the question, in MiB
#[tool]
fn huge_elicitation(ctx: &Call, mib: u32) -> Result<String, InputRequired> {
    let message = "?".repeat(mib as usize * (1 << 20));
    let answer = ctx.elicit("q", message, json!({"type": "object"}))?;
    Ok(format!("{answer:?}"))
}

/// Returns `count` empty text items (each costs the host an item).
///
/// # Arguments
/// * `count` - How many items
#[tool]
fn many_items(count: u32) -> ToolResult {
    ToolResult::new((0..count).map(|_| Content::text("")).collect::<Vec<_>>())
}

/// Asks the client for a name, keeping `secret-state` as its state, and
/// then returns whatever state it is handed back, unchecked: it relies on
/// the host alone to keep the state sealed and bound to this request.
///
/// # Arguments
/// * `topic` - Anything; the state is bound to it
#[tool]
fn trusting_state(ctx: &Call, topic: String) -> Result<String, InputRequired> {
    let _ = topic;
    match ctx.state() {
        Some(state) => Ok(format!("state: {state}")),
        None => Err(InputRequired::new()
            .elicit(
                "name",
                "Your name?",
                json!({"type": "object", "properties": {"name": {"type": "string"}}}),
            )
            .state("secret-state")),
    }
}

/// Returns `message` unchanged.
///
/// # Arguments
/// * `message` - What to echo
#[tool]
fn echo(message: String) -> String {
    message
}

corral_sdk::export!(tools: [
    spin,
    spin_calls,
    sleep_forever,
    memory_bomb,
    huge_output,
    panic,
    deep_recursion,
    stderr_flood,
    fields_flood,
    request_flood,
    pollable_flood,
    log_flood,
    progress_flood,
    huge_elicitation,
    many_items,
    trusting_state,
    echo,
]);

//! Host memory a call makes the host hold, counted by the process's
//! allocator and charged to the call's `memory` limit.
//!
//! A guest can make the host allocate without growing its own linear memory:
//! `wasi:http` fields, outgoing requests and bodies, pollables, streams,
//! descriptors, strings it passes to host functions. [`CountingAllocator`]
//! wraps the process's global allocator and charges every allocation and
//! free made *while a call's guest code runs* (the call's future is being
//! polled on this thread, see [`Charged`]) to that call's [`HostBytes`].
//! The runtime checks the count on every WASI host call and every epoch
//! tick, and the memory limiter adds it to the linear memory in use, so a
//! call's `memory` limit bounds both.
//!
//! The binary installs the allocator; an embedder that wants the same
//! accounting installs it too (`#[global_allocator] static A:
//! corral::CountingAllocator<std::alloc::System> = ...`). Without it the
//! count stays zero and the per-call resource table cap
//! ([`MAX_RESOURCES_PER_CALL`](super::limits::MAX_RESOURCES_PER_CALL)) and
//! the `wasi:http` fields cap still bound what a call can hold.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};
use std::task::{Context, Poll};

/// Bytes the host holds for one call (may dip below zero when the call
/// frees something allocated outside it; read it with [`HostBytes::get`]).
#[derive(Debug, Default)]
pub struct HostBytes(AtomicIsize);

impl HostBytes {
    /// The bytes held now, never below zero.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed).max(0) as u64
    }

    /// Start counting again from zero (a kept instance's next call).
    pub(crate) fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    pub(crate) fn add(&self, delta: isize) {
        self.0.fetch_add(delta, Ordering::Relaxed);
    }
}

thread_local! {
    /// The account of the call whose guest code this thread is running.
    static CURRENT: Cell<*const HostBytes> = const { Cell::new(std::ptr::null()) };
}

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Whether a [`CountingAllocator`] is the global allocator (it has counted
/// something), so that host-side bytes are being measured.
pub fn accounting_installed() -> bool {
    INSTALLED.load(Ordering::Relaxed)
}

fn charge(delta: isize) {
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
    // `try_with`: the thread may be tearing down its locals.
    let _ = CURRENT.try_with(|current| {
        let account = current.get();
        if !account.is_null() {
            // SAFETY: `Charged::poll` sets the pointer from an `Arc` it
            // holds for the whole poll, and restores the previous value
            // (even on panic) before that `Arc` can be dropped.
            unsafe { (*account).add(delta) };
        }
    });
}

/// A global allocator that charges what calls allocate to their
/// [`HostBytes`], and otherwise does exactly what the allocator it wraps does.
pub struct CountingAllocator<A>(pub A);

// SAFETY: every method forwards to the wrapped allocator unchanged; the
// counting touches only a thread-local pointer and an atomic.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { self.0.alloc(layout) };
        if !ptr.is_null() {
            charge(layout.size() as isize);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { self.0.alloc_zeroed(layout) };
        if !ptr.is_null() {
            charge(layout.size() as isize);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) };
        charge(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            charge(new_size as isize - layout.size() as isize);
        }
        new
    }
}

/// A future whose polls charge the host's allocations to `account`.
pub(crate) struct Charged<F> {
    account: Arc<HostBytes>,
    inner: F,
}

impl<F> Charged<F> {
    pub(crate) fn new(account: Arc<HostBytes>, inner: F) -> Self {
        Self { account, inner }
    }
}

impl<F: Future> Future for Charged<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        struct Restore(*const HostBytes);
        impl Drop for Restore {
            fn drop(&mut self) {
                let _ = CURRENT.try_with(|c| c.set(self.0));
            }
        }
        // SAFETY: `inner` is never moved out of the pinned `Charged`.
        let this = unsafe { self.get_unchecked_mut() };
        let account = Arc::as_ptr(&this.account);
        let _restore = Restore(CURRENT.with(|c| c.replace(account)));
        // SAFETY: as above; `this` stays pinned.
        unsafe { Pin::new_unchecked(&mut this.inner) }.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_is_allocated_inside_a_charged_poll_counts() {
        // The test binary's allocator is the system one: charge by hand.
        let account = Arc::new(HostBytes::default());
        let charged = Charged::new(account.clone(), async {
            charge(1000);
            charge(-200);
        });
        futures::executor::block_on(charged);
        charge(5000); // outside: nobody's
        assert_eq!(account.get(), 800);
        assert!(CURRENT.with(|c| c.get().is_null()));
    }

    #[test]
    fn frees_of_foreign_memory_never_make_the_count_negative() {
        let account = HostBytes::default();
        account.add(-10);
        assert_eq!(account.get(), 0);
    }
}

//! A counting global allocator for the allocation tests (each test binary installs it).
#![allow(dead_code)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    cell::Cell,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
};

/// A global allocator that counts while watching.
pub struct Counting;

/// Allocations counted.
pub static ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// Frees counted.
pub static FREES: AtomicUsize = AtomicUsize::new(0);

/// Counts every thread's allocations while set.
pub static WATCH_ALL: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Counts this thread's allocations while set.
    pub static WATCHING: Cell<bool> = const { Cell::new(false) };
}

fn watched() -> bool {
    WATCH_ALL.load(Ordering::Relaxed) || WATCHING.try_with(Cell::get).unwrap_or(false)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if watched() {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if watched() {
            FREES.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if watched() {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
            FREES.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

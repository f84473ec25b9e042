//! Live heap bytes, counted at the global allocator.
//!
//! Resident memory mixes what the program holds with what the allocator keeps for reuse, so a slow rise of RSS
//! over a soak does not say which of the two grows. A binary that wraps its allocator in a counting one (`cap::Cap`
//! around mimalloc) hands its reading to [`count_heap_with`]; `navigator_heap_allocated_bytes` then reports the
//! bytes the program holds beside `process_resident_memory_bytes`.

use std::sync::OnceLock;

static HEAP_READER: OnceLock<fn() -> usize> = OnceLock::new();

/// Names how to read the bytes allocated and not yet freed (once per process; later calls are ignored).
pub fn count_heap_with(read: fn() -> usize) {
    let _ = HEAP_READER.set(read);
}

/// The bytes the program holds on the heap now, or `None` when its allocator does not count them.
pub fn allocated_bytes() -> Option<usize> {
    HEAP_READER.get().map(|read| read())
}

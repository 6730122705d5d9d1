//! Order-keeping parallel map over a slice, on scoped threads.
//!
//! In: a slice and a pure function. Out: the results in the slice's order. Used wherever a
//! batch of independent transactions is validated at once (`check`, each block), so the
//! order clients see never depends on thread timing.

/// Applies `f` to every item on up to `threads` threads, returning results in item order.
///
/// Small batches stay on the calling thread: spawning costs more than validating a handful
/// of transactions.
pub fn map_in_order<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    /// Below this many items per thread, one thread is faster than several.
    const MIN_PER_THREAD: usize = 8;
    let threads = threads.clamp(1, items.len().div_ceil(MIN_PER_THREAD).max(1));
    if threads == 1 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("mapped functions do not panic"))
            .collect()
    })
}

/// The number of threads to use for CPU-bound work: every core.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_for_every_thread_count() {
        let items: Vec<u32> = (0..1000).collect();
        for threads in [0, 1, 2, 3, 7, 64] {
            let doubled = map_in_order(&items, threads, |x| x * 2);
            assert_eq!(doubled, items.iter().map(|x| x * 2).collect::<Vec<_>>());
        }
        assert!(map_in_order(&[] as &[u32], 4, |x| *x).is_empty());
    }
}

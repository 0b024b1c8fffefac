//! Running independent jobs on a few threads: file copies and hashes, tarball extractions, plugin
//! updates. Workers take the next job from a shared counter, so a slow job never holds up a
//! queue of quick ones behind it.

use std::sync::atomic::{AtomicUsize, Ordering};

/// Threads for disk-bound work: the machine's parallelism, at most 8. Found once per process:
/// on Linux std reads the cgroup's CPU quota from /sys each time it is asked.
pub fn disk_threads() -> usize {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(8)
    })
}

/// `f` over `items` on up to `threads` threads, results in item order. Each worker first builds
/// its own state with `init` (e.g. a repository handle that must stay on its thread). With one
/// thread or fewer than `min_items` items the work runs on the calling thread. A panicking
/// worker is re-raised: losing its results silently would be worse.
pub fn map_init<T, S, R>(
    items: &[T],
    threads: usize,
    min_items: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
{
    let threads = threads.min(items.len());
    if threads <= 1 || items.len() < min_items {
        let mut state = init();
        return items.iter().map(|i| f(&mut state, i)).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut state = init();
                    let mut out = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        out.push((i, f(&mut state, item)));
                    }
                    out
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}

/// [`map_init`] without per-worker state.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    min_items: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    map_init(items, threads, min_items, || (), |(), item| f(item))
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_keep_item_order() {
        let items: Vec<u64> = (0..500).collect();
        let out = super::map(&items, 4, 1, |i| i * 2);
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let inits = std::sync::atomic::AtomicUsize::new(0);
        let out = super::map_init(
            &items,
            3,
            1,
            || inits.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            |_, i| *i,
        );
        assert_eq!(out, items);
        assert_eq!(inits.into_inner(), 3);
        assert!(super::map(&[] as &[u8], 4, 1, |_| 0).is_empty());
    }
}

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
    map_in_order(items, None, threads, min_items, init, f)
}

/// [`map_init`] for jobs that each make a file: the jobs are taken one folder (`folder_of`) at a
/// time in turn, so that workers working at the same moment seldom make files in one folder
/// (each waiting for the other to release the folder's lock at every file). Results in item
/// order.
pub fn map_init_across_folders<'a, T, S, R, K>(
    items: &'a [T],
    folder_of: impl Fn(&'a T) -> K,
    threads: usize,
    min_items: usize,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Vec<R>
where
    T: Sync,
    R: Send,
    K: std::hash::Hash + Eq,
{
    let order = across_groups(items, folder_of);
    map_in_order(items, Some(&order), threads, min_items, init, f)
}

/// The indices of `items` taking one item of each group in turn (a group's items keep their
/// order).
fn across_groups<'a, T, K: std::hash::Hash + Eq>(
    items: &'a [T],
    group: impl Fn(&'a T) -> K,
) -> Vec<usize> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut slot: std::collections::HashMap<K, usize> = std::collections::HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let at = *slot.entry(group(item)).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[at].push(i);
    }
    let longest = groups.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest)
        .flat_map(|n| groups.iter().filter_map(move |g| g.get(n).copied()))
        .collect()
}

/// The jobs, taken in `order` (a permutation of the item indices) when given.
fn map_in_order<T, S, R>(
    items: &[T],
    order: Option<&[usize]>,
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
                        let n = next.fetch_add(1, Ordering::Relaxed);
                        let i = match order {
                            Some(order) => match order.get(n) {
                                Some(&i) => i,
                                None => break,
                            },
                            None => n,
                        };
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

    #[test]
    fn jobs_across_folders_take_each_folder_in_turn() {
        let items = ["a/1", "a/2", "a/3", "b/1", "c/1", "c/2"];
        let folder = |s: &&str| s.split('/').next().unwrap_or("").to_string();
        assert_eq!(super::across_groups(&items, folder), [0, 3, 4, 1, 5, 2]);
        // Run in that order, the results still come in item order.
        let out =
            super::map_init_across_folders(&items, folder, 2, 1, || (), |(), s| s.to_string());
        assert_eq!(out, items);
    }
}

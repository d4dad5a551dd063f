//! `entityd`: runs an entity-engine node. See `gateway::cli::entityd`.
//!
//! The global allocator is jemalloc, so that the memory of passivated tenants goes back to
//! the system: glibc's malloc kept the freed pages, and a node's RSS stayed at its peak of
//! simultaneously active tenants. jemalloc returns freed pages after `dirty_decay_ms` (10 s)
//! with `MADV_DONTNEED` (`muzzy_decay_ms` is 0: no lazy `MADV_FREE` stage that leaves them in
//! the RSS), and the `background_threads` feature of `tikv-jemallocator` turns on its
//! background thread, which purges arenas that no longer allocate (without it, an idle node
//! would never purge). The threads' caches keep only objects of at most 256 bytes
//! (`tcache_max:256`, compiled in through `.cargo/config.toml`): larger ones go straight back
//! to their slabs, so fewer slabs stay pinned after a peak; and a slab of objects up to 1 KiB
//! is one page (`slab_sizes:1-1024:1`; by default up to 7), so an object that outlives a peak
//! pins one page. Operators can override these at start with `_RJEM_MALLOC_CONF`, e.g.
//! `_RJEM_MALLOC_CONF=dirty_decay_ms:1000`. Measured in BENCHMARKS.md ("Memory after
//! passivation", "One-page slabs"). Its statistics are on `/metrics` as `entity_allocator_*`.

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    engine::telemetry::allocator::install(jemalloc_figures);
    gateway::entityd_main()
}

/// jemalloc's statistics for `/metrics` (`entity_allocator_*`), refreshed at each scrape
/// (`epoch`); `None` if jemalloc does not answer.
fn jemalloc_figures() -> Option<engine::telemetry::allocator::Figures> {
    use tikv_jemalloc_ctl::{epoch, stats};
    epoch::advance().ok()?;
    let bytes = |n: usize| u64::try_from(n).ok();
    Some(engine::telemetry::allocator::Figures {
        allocated: bytes(stats::allocated::read().ok()?)?,
        active: bytes(stats::active::read().ok()?)?,
        metadata: bytes(stats::metadata::read().ok()?)?,
        resident: bytes(stats::resident::read().ok()?)?,
        retained: bytes(stats::retained::read().ok()?)?,
    })
}

#[cfg(test)]
mod tests {
    use tikv_jemalloc_ctl::{Access, AsName, Mib};

    #[test]
    fn the_figures_are_jemallocs_own() {
        let before = super::jemalloc_figures().expect("jemalloc answers");
        let block = std::hint::black_box(vec![1_u8; 16 << 20]);
        let during = super::jemalloc_figures().expect("jemalloc answers");
        assert!(
            during.allocated >= before.allocated + (16 << 20) - (1 << 20),
            "{before:?} → {during:?}"
        );
        assert!(during.active >= during.allocated, "{during:?}");
        assert!(during.resident >= during.active, "{during:?}");
        assert!(during.metadata > 0, "{during:?}");
        drop(block);
        let after = super::jemalloc_figures().expect("jemalloc answers");
        assert!(after.allocated < during.allocated, "{during:?} → {after:?}");
    }

    #[test]
    fn thread_caches_keep_only_small_objects() {
        // Compiled in from .cargo/config.toml; a build without it caches up to 32 KiB.
        assert_eq!(tikv_jemalloc_ctl::opt::tcache_max::read(), Ok(256));
    }

    #[test]
    fn slabs_of_objects_up_to_a_kibibyte_are_one_page() {
        // Compiled in from .cargo/config.toml; by default a slab spans up to 7 pages.
        let page: usize = b"arenas.page\0".name().read().unwrap();
        let bins: u32 = b"arenas.nbins\0".name().read().unwrap();
        let mut size: Mib<[usize; 4]> = b"arenas.bin.0.size\0".name().mib().unwrap();
        let mut slab: Mib<[usize; 4]> = b"arenas.bin.0.slab_size\0".name().mib().unwrap();
        let mut checked = 0;
        for bin in 0..bins as usize {
            size[2] = bin;
            slab[2] = bin;
            let object: usize = size.read().unwrap();
            if object <= 1024 {
                assert_eq!(slab.read(), Ok(page), "slab of {object}-byte objects");
                checked += 1;
            }
        }
        assert!(checked > 10, "only {checked} size classes up to 1 KiB");
    }
}

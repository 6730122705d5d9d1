use super::*;
use crate::validate::taint::{Delta, Taint};
use crate::wire::index::Tags;
use crate::wire::{self, EncodedBlock};

fn block(height: u64, transactions: usize) -> Arc<EncodedBlock> {
    let published = (0..transactions)
        .map(|i| {
            let tags = Tags {
                transaction_id: Some(format!("{height}-{i}")),
                public_keys: vec![format!("key-{i}")],
                ..Tags::default()
            };
            (tags, format!(r#"{{"n":{i}}}"#))
        })
        .collect();
    let refused = vec![wire::Refusal::by_node(transactions, Tags::default())];
    let height = Height::new(height).unwrap();
    Arc::new(EncodedBlock::encode(
        height,
        &format!("h{height}"),
        published,
        refused,
    ))
}

fn heights(blocks: &[EncodedBlock]) -> Vec<u64> {
    blocks.iter().map(|b| b.height.get()).collect()
}

fn same(read: &[EncodedBlock], expected: &[Arc<EncodedBlock>]) -> bool {
    read.iter().eq(expected.iter().map(|b| &**b))
}

fn h(height: u64) -> Height {
    Height::new(height).unwrap()
}

fn link(id: &str, output_index: u64) -> OutputLink {
    OutputLink {
        transaction_id: id.into(),
        output_index,
    }
}

#[test]
fn blocks_come_back_as_stored_and_old_ones_are_pruned() {
    let store = Store::in_memory(3).unwrap();
    assert_eq!(store.last_height(), None);
    assert_eq!(store.first_height(), None);
    let none = Delta::default();
    let blocks: Vec<_> = (1..=2).map(|h| block(h, h as usize - 1)).collect();
    store.append(&blocks, "hash-2", &none).unwrap();
    assert!(same(&store.read(h(1), usize::MAX).unwrap(), &blocks));
    store
        .append(&[block(3, 0), block(4, 5)], "hash-4", &none)
        .unwrap();
    store.append(&[block(5, 2)], "hash-5", &none).unwrap();
    // The app hash follows every commit, not only the one before opening.
    assert_eq!(store.last_app_hash().as_deref(), Some("hash-5"));
    assert_eq!(store.last_height(), Height::new(5));
    assert_eq!(store.first_height(), Height::new(3));
    let from_one = store.read(h(1), usize::MAX).unwrap();
    assert_eq!(heights(&from_one), [3, 4, 5]);
    assert_eq!(from_one[1], *block(4, 5));
    // Bodies and tags come back too: a resuming client's filters and bodies work.
    assert_eq!(&*from_one[1].published[4].body, r#"{"n":4}"#);
    assert_eq!(from_one[1].published[4].tags.public_keys, ["key-4"]);
    assert_eq!(heights(&store.read(h(4), 1).unwrap()), [4]);
    assert!(store.read(h(6), usize::MAX).unwrap().is_empty());
    // A chunk stops once it holds the bytes asked for, but always holds a block.
    let first_bytes = stored::decode(&stored::encode(&from_one[0]), h(3))
        .unwrap()
        .1;
    assert_eq!(heights(&store.read(h(3), first_bytes).unwrap()), [3]);
    assert_eq!(heights(&store.read(h(3), first_bytes + 1).unwrap()), [3, 4]);
    assert_eq!(heights(&store.read(h(3), 0).unwrap()), [3]);
}

#[test]
fn a_height_is_never_stored_twice() {
    let store = Store::in_memory(10).unwrap();
    let none = Delta::default();
    store.append(&[block(7, 1)], "a", &none).unwrap();
    for repeat in [block(7, 1), block(6, 0)] {
        assert!(matches!(
            store.append(&[repeat], "b", &none),
            Err(StoreError::NotAfter { last: 7, .. })
        ));
    }
    // The failed commit changed nothing.
    assert_eq!(heights(&store.read(h(1), usize::MAX).unwrap()), [7]);
    assert_eq!(store.last_height(), Height::new(7));
}

#[test]
fn the_cursor_and_the_carried_state_survive_reopening_and_bind_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let added = Delta {
        added: [link("forged", 0), link("forged", 1), link("spender", 0)].into(),
        removed: Default::default(),
    };
    {
        let store = Store::open(dir.path(), 100).unwrap();
        assert!(store.tainted().unwrap().is_empty());
        store.claim_chain("chain-a").unwrap();
        store
            .append(&[block(41, 2), block(42, 0)], "app-42", &added)
            .unwrap();
        // A later commit carries only its own changes.
        let spent = Delta {
            added: Default::default(),
            removed: [link("forged", 1)].into(),
        };
        store.append(&[block(43, 0)], "app-43", &spent).unwrap();
    }
    let store = Store::open(dir.path(), 100).unwrap();
    assert_eq!(store.last_height(), Height::new(43));
    assert_eq!(store.first_height(), Height::new(41));
    assert_eq!(store.last_app_hash().as_deref(), Some("app-43"));
    assert_eq!(
        store.tainted().unwrap(),
        Taint::new([link("forged", 0), link("spender", 0)])
    );
    store.claim_chain("chain-a").unwrap();
    assert!(matches!(
        store.claim_chain("chain-b"),
        Err(StoreError::OtherChain { stored, .. }) if stored == "chain-a"
    ));
    assert!(same(
        &store.read(h(1), usize::MAX).unwrap(),
        &[block(41, 2), block(42, 0), block(43, 0)]
    ));
    drop(store);
    dir.close().unwrap();
}

#[test]
fn a_store_of_the_old_layout_keeps_its_cursor_and_drops_its_history() {
    let dir = tempfile::tempdir().unwrap();
    {
        // What the version before bodies wrote: frames joined by newlines, no format.
        let database = Database::create(dir.path().join(FILE_NAME)).unwrap();
        let write = database.begin_write().unwrap();
        write
            .open_table(TableDefinition::<u64, &[u8]>::new(OLD_BLOCKS))
            .unwrap()
            .insert(
                9,
                br#"{"height":9,"hash":"","transaction_ids":[]}"#.as_slice(),
            )
            .unwrap();
        let mut meta = write.open_table(META).unwrap();
        meta.insert(LAST_HEIGHT, b"9".as_slice()).unwrap();
        meta.insert(APP_HASH, b"app-9".as_slice()).unwrap();
        drop(meta);
        write.commit().unwrap();
    }
    let store = Store::open(dir.path(), 100).unwrap();
    assert_eq!(store.last_height(), Height::new(9));
    assert_eq!(store.last_app_hash().as_deref(), Some("app-9"));
    // Resumes into the dropped history get 410: nothing is kept before the next block.
    assert_eq!(store.first_height(), Height::new(10));
    assert!(store.read(h(1), usize::MAX).unwrap().is_empty());
    store
        .append(&[block(10, 1)], "app-10", &Delta::default())
        .unwrap();
    assert_eq!(store.first_height(), Height::new(10));
    drop(store);
    // A format from a later version is refused, not rewritten.
    {
        let database = Database::create(dir.path().join(FILE_NAME)).unwrap();
        let write = database.begin_write().unwrap();
        let mut meta = write.open_table(META).unwrap();
        meta.insert(FORMAT, b"99".as_slice()).unwrap();
        drop(meta);
        write.commit().unwrap();
    }
    assert!(matches!(
        Store::open(dir.path(), 100),
        Err(StoreError::Format { found }) if found == "99"
    ));
}

#[test]
fn before_the_exporter_reports_only_new_blocks_count_against_its_limit() {
    let store = Store::in_memory(100).unwrap();
    let none = Delta::default();
    let old: Vec<_> = (1..=10).map(|h| block(h, 0)).collect();
    store.append(&old, "a", &none).unwrap();
    store.hold_for_export(3);
    // Ten stored blocks the export may well have: not counted until it says.
    store
        .append(&[block(11, 0), block(12, 0), block(13, 0)], "a", &none)
        .unwrap();
    assert!(matches!(
        store.append(&[block(14, 0)], "a", &none),
        Err(StoreError::ExportBehind {
            behind: 4,
            limit: 3
        })
    ));
    store.set_exported(Height::new(12));
    store.append(&[block(14, 0)], "a", &none).unwrap();
}

#[test]
fn an_export_holds_pruning_back_up_to_its_limit() {
    let store = Store::in_memory(1).unwrap();
    let none = Delta::default();
    store.hold_for_export(3);
    // Before the exporter says where it stands, nothing is pruned.
    store
        .append(&[block(1, 0), block(2, 0)], "a", &none)
        .unwrap();
    assert_eq!(store.first_height(), Height::new(1));
    store.set_exported(Height::new(1));
    store.append(&[block(3, 0)], "a", &none).unwrap();
    // History 1 would keep only 3; the export still needs 2.
    assert_eq!(heights(&store.read(h(1), usize::MAX).unwrap()), [2, 3]);
    store.append(&[block(4, 0)], "a", &none).unwrap();
    // Block 5 would be 4 past the export's 1: refused, and nothing changes.
    assert!(matches!(
        store.append(&[block(5, 0)], "a", &none),
        Err(StoreError::ExportBehind {
            behind: 4,
            limit: 3
        })
    ));
    assert_eq!(store.last_height(), Height::new(4));
    store.set_exported(Height::new(4));
    store.append(&[block(5, 0)], "a", &none).unwrap();
    assert_eq!(heights(&store.read(h(1), usize::MAX).unwrap()), [5]);
    assert_eq!(store.exported(), Height::new(4));
}

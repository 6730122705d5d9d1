//! Store: the published blocks of a retention window, and the cursor, in an embedded
//! database (redb).
//!
//! In: each block's encoded messages from the validate stage, written *before* the hub
//! publishes them. Out: the height to continue from after a restart, and history for
//! subscribers that resume with `?from_height=N`.
//!
//! Writing before publishing is what makes the stream exactly-once across restarts: a
//! block a client has seen is always in the store, so the service continues after it, and a
//! block that was stored but not yet sent when the process died is still served to a client
//! resuming from its height. The last stored height *is* the cursor: one commit updates the
//! blocks and the cursor together, so they can never disagree.
//!
//! Layout: table `blocks` maps a height to its messages (the transaction frames then the
//! block frame, joined by `\n`: frames are compact JSON, which never holds a raw newline);
//! table `meta` holds the chain id, the last height and the app hash after it. Blocks older
//! than the retention window are deleted in the same commit that adds new ones.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};

use crate::chain::Height;
use crate::wire::{EncodedBlock, Frame};

const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const CHAIN_ID: &str = "chain_id";
const LAST_HEIGHT: &str = "last_height";
const APP_HASH: &str = "app_hash";

/// The database file inside `--data-dir`.
pub const FILE_NAME: &str = "stream.redb";

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: redb::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("store: {0}")]
    Database(#[from] redb::Error),
    #[error(
        "the store belongs to chain {stored:?} but the node is on chain {node:?}; use another --data-dir"
    )]
    OtherChain { stored: String, node: String },
    #[error("store: block {height} does not follow the stored height {last}")]
    NotAfter { last: u64, height: u64 },
    /// Height 0 is the cursor itself.
    #[error("store: block {height} is damaged (0: the cursor)")]
    Damaged { height: u64 },
}

fn db(error: impl Into<redb::Error>) -> StoreError {
    StoreError::Database(error.into())
}

/// The store. Shared (`Arc`) by the validate stage, which alone writes, and the sessions,
/// which read; redb gives readers a consistent snapshot while the writer commits.
pub struct Store {
    db: Database,
    /// Blocks kept for resuming clients.
    history: u64,
    /// The last stored height and the oldest kept one (0: none), mirrored from the
    /// database so a session can tell where history ends without a transaction.
    last: AtomicU64,
    first: AtomicU64,
    chain_id: Mutex<Option<String>>,
    /// Our app hash after the last stored block, mirrored like `last`: the validate stage
    /// checks the next block's header against it, across restarts too.
    app_hash: Mutex<Option<String>>,
}

impl Store {
    /// Opens (or creates) the store in `dir`, keeping `history` blocks.
    pub fn open(dir: &Path, history: u64) -> Result<Store, StoreError> {
        let path = dir.join(FILE_NAME);
        std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
            path: dir.to_owned(),
            source,
        })?;
        let database = Database::create(&path).map_err(|source| StoreError::Open {
            path,
            source: source.into(),
        })?;
        Store::load(database, history)
    }

    /// A store that lives and dies with the process: for replaying chain files, where
    /// resuming across restarts means nothing but resuming clients still do.
    pub fn in_memory(history: u64) -> Result<Store, StoreError> {
        let db = Database::builder()
            .create_with_backend(InMemoryBackend::new())
            .map_err(db)?;
        Store::load(db, history)
    }

    fn load(database: Database, history: u64) -> Result<Store, StoreError> {
        let write = database.begin_write().map_err(db)?;
        // Creating the tables up front lets readers open them unconditionally.
        write.open_table(BLOCKS).map_err(db)?;
        write.open_table(META).map_err(db)?;
        write.commit().map_err(db)?;
        let read = database.begin_read().map_err(db)?;
        let meta = read.open_table(META).map_err(db)?;
        let text = |key: &str| -> Result<Option<String>, StoreError> {
            Ok(meta
                .get(key)
                .map_err(db)?
                .map(|v| String::from_utf8_lossy(v.value()).into_owned()))
        };
        let chain_id = text(CHAIN_ID)?;
        let app_hash = text(APP_HASH)?;
        // A cursor that does not parse must stop the service, not restart it from scratch.
        let last = match text(LAST_HEIGHT)? {
            None => 0,
            Some(text) => text
                .parse()
                .map_err(|_| StoreError::Damaged { height: 0 })?,
        };
        let blocks = read.open_table(BLOCKS).map_err(db)?;
        let first = blocks.first().map_err(db)?.map_or(0, |(k, _)| k.value());
        drop((meta, blocks, read));
        Ok(Store {
            db: database,
            history,
            last: AtomicU64::new(last),
            first: AtomicU64::new(first),
            chain_id: Mutex::new(chain_id),
            app_hash: Mutex::new(app_hash),
        })
    }

    /// The last stored height: where a restarted service continues from.
    pub fn last_height(&self) -> Option<Height> {
        Height::new(self.last.load(Relaxed))
    }

    /// The oldest height a client may resume from.
    pub fn first_height(&self) -> Option<Height> {
        Height::new(self.first.load(Relaxed))
    }

    /// Planetmint's app hash after the last stored block (as we computed it): the next
    /// block's header must carry it.
    pub fn last_app_hash(&self) -> Option<String> {
        lock(&self.app_hash).clone()
    }

    /// Binds the store to the node's chain on first use; a store of another chain is
    /// refused, so two chains' heights are never mixed.
    pub fn claim_chain(&self, node_chain: &str) -> Result<(), StoreError> {
        let mut chain = lock(&self.chain_id);
        match chain.as_deref() {
            Some(stored) if stored == node_chain => Ok(()),
            Some(stored) => Err(StoreError::OtherChain {
                stored: stored.to_owned(),
                node: node_chain.to_owned(),
            }),
            None => {
                let write = self.db.begin_write().map_err(db)?;
                write
                    .open_table(META)
                    .map_err(db)?
                    .insert(CHAIN_ID, node_chain.as_bytes())
                    .map_err(db)?;
                write.commit().map_err(db)?;
                *chain = Some(node_chain.to_owned());
                Ok(())
            }
        }
    }

    /// Stores consecutive blocks after the last stored one, and `app_hash` (ours after the
    /// last of them), in one durable commit; drops what falls out of the window.
    pub fn append(&self, blocks: &[EncodedBlock], app_hash: &str) -> Result<(), StoreError> {
        let Some(newest) = blocks.last() else {
            return Ok(());
        };
        let mut last = self.last.load(Relaxed);
        let write = self.db.begin_write().map_err(db)?;
        {
            let mut table = write.open_table(BLOCKS).map_err(db)?;
            let mut value = Vec::new();
            for block in blocks {
                if block.height.get() <= last {
                    return Err(StoreError::NotAfter {
                        last,
                        height: block.height.get(),
                    });
                }
                last = block.height.get();
                value.clear();
                for frame in block.transactions.iter().chain([&block.block]) {
                    value.extend_from_slice(frame.as_str().as_bytes());
                    value.push(b'\n');
                }
                value.pop();
                table.insert(last, value.as_slice()).map_err(db)?;
            }
            let keep_from = last.saturating_sub(self.history) + 1;
            table.retain_in(..keep_from, |_, _| false).map_err(db)?;
            let mut meta = write.open_table(META).map_err(db)?;
            meta.insert(LAST_HEIGHT, last.to_string().as_bytes())
                .map_err(db)?;
            meta.insert(APP_HASH, app_hash.as_bytes()).map_err(db)?;
        }
        write.commit().map_err(db)?;
        let first = self.first.load(Relaxed);
        let oldest = blocks[0].height.get();
        let first = if first == 0 { oldest } else { first };
        self.first
            .store(first.max(last.saturating_sub(self.history) + 1), Relaxed);
        self.last.store(newest.height.get(), Relaxed);
        *lock(&self.app_hash) = Some(app_hash.to_owned());
        Ok(())
    }

    /// Stored blocks from `from` on, in height order, until they hold `max_bytes` (at
    /// least one block, if there is one).
    pub fn read(&self, from: Height, max_bytes: usize) -> Result<Vec<EncodedBlock>, StoreError> {
        let read = self.db.begin_read().map_err(db)?;
        let table = read.open_table(BLOCKS).map_err(db)?;
        let mut blocks = Vec::new();
        let mut bytes = 0;
        for entry in table.range(from.get()..).map_err(db)? {
            if bytes >= max_bytes && !blocks.is_empty() {
                break;
            }
            let (key, value) = entry.map_err(db)?;
            bytes += value.value().len();
            let height = key.value();
            let damaged = || StoreError::Damaged { height };
            let text = std::str::from_utf8(value.value()).map_err(|_| damaged())?;
            let mut frames: Vec<Frame> = text.split('\n').map(Frame::from).collect();
            let block = frames.pop().ok_or_else(damaged)?;
            blocks.push(EncodedBlock {
                height: Height::new(height).ok_or_else(damaged)?,
                transactions: frames.into(),
                block,
            });
        }
        Ok(blocks)
    }
}

/// A poisoned lock still holds a whole value: every update is one assignment.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(height: u64, transactions: usize) -> EncodedBlock {
        EncodedBlock {
            height: Height::new(height).unwrap(),
            transactions: (0..transactions)
                .map(|i| {
                    Frame::from(format!(
                        r#"{{"transaction_id":"{height}-{i}","height":{height}}}"#
                    ))
                })
                .collect::<Vec<_>>()
                .into(),
            block: Frame::from(format!(r#"{{"height":{height},"hash":"h{height}"}}"#)),
        }
    }

    fn heights(blocks: &[EncodedBlock]) -> Vec<u64> {
        blocks.iter().map(|b| b.height.get()).collect()
    }

    #[test]
    fn blocks_come_back_as_stored_and_old_ones_are_pruned() {
        let store = Store::in_memory(3).unwrap();
        assert_eq!(store.last_height(), None);
        assert_eq!(store.first_height(), None);
        let blocks: Vec<_> = (1..=2).map(|h| block(h, h as usize - 1)).collect();
        store.append(&blocks, "hash-2").unwrap();
        assert_eq!(
            store.read(Height::new(1).unwrap(), usize::MAX).unwrap(),
            blocks
        );
        store.append(&[block(3, 0), block(4, 5)], "hash-4").unwrap();
        store.append(&[block(5, 2)], "hash-5").unwrap();
        // The app hash follows every commit, not only the one before opening.
        assert_eq!(store.last_app_hash().as_deref(), Some("hash-5"));
        assert_eq!(store.last_height(), Height::new(5));
        assert_eq!(store.first_height(), Height::new(3));
        let from_one = store.read(Height::new(1).unwrap(), usize::MAX).unwrap();
        assert_eq!(heights(&from_one), [3, 4, 5]);
        assert_eq!(from_one[1], block(4, 5));
        assert_eq!(
            heights(&store.read(Height::new(4).unwrap(), 1).unwrap()),
            [4]
        );
        assert!(
            store
                .read(Height::new(6).unwrap(), usize::MAX)
                .unwrap()
                .is_empty()
        );
        // A chunk stops once it holds the bytes asked for, but always holds a block.
        let first_bytes = from_one[0].block.len();
        let chunk = store.read(Height::new(3).unwrap(), first_bytes).unwrap();
        assert_eq!(heights(&chunk), [3]);
        let chunk = store
            .read(Height::new(3).unwrap(), first_bytes + 1)
            .unwrap();
        assert_eq!(heights(&chunk), [3, 4]);
        assert_eq!(
            heights(&store.read(Height::new(3).unwrap(), 0).unwrap()),
            [3]
        );
    }

    #[test]
    fn a_height_is_never_stored_twice() {
        let store = Store::in_memory(10).unwrap();
        store.append(&[block(7, 1)], "a").unwrap();
        for repeat in [block(7, 1), block(6, 0)] {
            assert!(matches!(
                store.append(&[repeat], "b"),
                Err(StoreError::NotAfter { last: 7, .. })
            ));
        }
        // The failed commit changed nothing.
        assert_eq!(
            heights(&store.read(Height::new(1).unwrap(), usize::MAX).unwrap()),
            [7]
        );
        assert_eq!(store.last_height(), Height::new(7));
    }

    #[test]
    fn the_cursor_survives_reopening_and_binds_one_chain() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), 100).unwrap();
            store.claim_chain("chain-a").unwrap();
            store
                .append(&[block(41, 2), block(42, 0)], "app-42")
                .unwrap();
        }
        let store = Store::open(dir.path(), 100).unwrap();
        assert_eq!(store.last_height(), Height::new(42));
        assert_eq!(store.first_height(), Height::new(41));
        assert_eq!(store.last_app_hash().as_deref(), Some("app-42"));
        store.claim_chain("chain-a").unwrap();
        assert!(matches!(
            store.claim_chain("chain-b"),
            Err(StoreError::OtherChain { stored, .. }) if stored == "chain-a"
        ));
        assert_eq!(
            store.read(Height::new(1).unwrap(), usize::MAX).unwrap(),
            [block(41, 2), block(42, 0)]
        );
        drop(store);
        dir.close().unwrap();
    }
}

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
//! Layout: table `blocks` maps a height to a stored block (see `stored`): its messages on
//! every stream, and the bodies and filter tags of its transactions, so a resuming client
//! gets exactly what a live one got, filters and bodies included. Table `meta` holds the
//! format, the chain id, the last height and the app hash after it; table `tainted` the
//! outputs the validate stage must not let be spent (see `validate::taint`), updated in
//! the same commit as the blocks whose judging changed it. Blocks older than the retention window are deleted in the same
//! commit that adds new ones.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use redb::backends::InMemoryBackend;
use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};
use tracing::warn;

use crate::chain::{Height, OutputLink};
use crate::validate::taint::{Delta, Taint};
use crate::wire::EncodedBlock;

mod stored;

/// Named for its layout: a version that wrote `blocks` (frames joined by newlines) finds no
/// table of this name, rather than values it cannot read.
const BLOCKS: TableDefinition<u64, &[u8]> = TableDefinition::new("blocks_v2");
/// The layout before bodies and filters, dropped when such a store is opened.
const OLD_BLOCKS: &str = "blocks";
/// The tainted outputs (transaction id, output index), see `validate::taint`.
const TAINTED: TableDefinition<(&str, u64), ()> = TableDefinition::new("tainted");
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const FORMAT: &str = "format";
const CHAIN_ID: &str = "chain_id";
const LAST_HEIGHT: &str = "last_height";
const APP_HASH: &str = "app_hash";

/// The layout this version writes. A store without a format (written before bodies and
/// filters were kept) has its history dropped on opening: its cursor, chain and app hash
/// still hold, so the service continues where it was; only resumes into the old history get
/// 410. A format this version does not know is refused.
const CURRENT_FORMAT: &str = "2";

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
    #[error("store: block {height} is damaged (0: the cursor or the carried state)")]
    Damaged { height: u64 },
    #[error(
        "the store has format {found:?}, which this version does not know; use another --data-dir"
    )]
    Format { found: String },
    /// The NATS export is `behind` blocks behind, more than it may be: the store keeps
    /// every unexported block, so it takes no more until the export catches up.
    #[error(
        "the NATS export is {behind} blocks behind, more than --nats-max-behind {limit}; holding the stream until it catches up"
    )]
    ExportBehind { behind: u64, limit: u64 },
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
    /// Blocks the NATS export may fall behind (0: no export), and the last block it has
    /// (see [`Store::set_exported`]).
    export_max_behind: AtomicU64,
    exported: AtomicU64,
    /// The last stored height when the export started holding: until the exporter says
    /// where it stands, only blocks after it count against its limit.
    export_base: AtomicU64,
}

/// [`Store::exported`] before the exporter has read where NATS stands.
const EXPORT_UNKNOWN: u64 = u64::MAX;

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
        {
            write.open_table(BLOCKS).map_err(db)?;
            write.open_table(TAINTED).map_err(db)?;
            let mut meta = write.open_table(META).map_err(db)?;
            let format = meta
                .get(FORMAT)
                .map_err(db)?
                .map(|v| String::from_utf8_lossy(v.value()).into_owned());
            match format.as_deref() {
                Some(CURRENT_FORMAT) => {}
                Some(other) => {
                    return Err(StoreError::Format {
                        found: other.to_owned(),
                    });
                }
                None => {
                    let old = TableDefinition::<u64, &[u8]>::new(OLD_BLOCKS);
                    if write.delete_table(old).map_err(db)? {
                        warn!(
                            "the store holds history in the layout before bodies and filters; dropping that history, keeping the cursor"
                        );
                    }
                    meta.insert(FORMAT, CURRENT_FORMAT.as_bytes()).map_err(db)?;
                }
            }
        }
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
            export_max_behind: AtomicU64::new(0),
            exported: AtomicU64::new(EXPORT_UNKNOWN),
            export_base: AtomicU64::new(0),
        })
    }

    /// The last stored height: where a restarted service continues from.
    pub fn last_height(&self) -> Option<Height> {
        Height::new(self.last.load(Relaxed))
    }

    /// The oldest height a client may resume from. A store with a cursor but no history yet
    /// (its history dropped with an old layout) holds nothing before the next block.
    pub fn first_height(&self) -> Option<Height> {
        match (self.first.load(Relaxed), self.last.load(Relaxed)) {
            (0, 0) => None,
            (0, last) => Height::new(last + 1),
            (first, _) => Height::new(first),
        }
    }

    /// Planetmint's app hash after the last stored block (as we computed it): the next
    /// block's header must carry it.
    pub fn last_app_hash(&self) -> Option<String> {
        lock(&self.app_hash).clone()
    }

    /// The tainted outputs after the last stored block: where the validate stage continues.
    /// Read once, when the stage starts; each commit then updates the table by its delta.
    pub fn tainted(&self) -> Result<Taint, StoreError> {
        let read = self.db.begin_read().map_err(db)?;
        let table = read.open_table(TAINTED).map_err(db)?;
        let mut outputs = Vec::new();
        for entry in table.iter().map_err(db)? {
            let (key, _) = entry.map_err(db)?;
            let (transaction_id, output_index) = key.value();
            outputs.push(OutputLink {
                transaction_id: transaction_id.to_owned(),
                output_index,
            });
        }
        Ok(Taint::new(outputs))
    }

    /// The chain the store is bound to, once it is.
    pub fn chain_id(&self) -> Option<String> {
        lock(&self.chain_id).clone()
    }

    /// Keeps every block the NATS export has not published yet, however old, up to
    /// `max_behind` blocks behind the last stored one; past that, [`Store::append`] refuses
    /// new blocks ([`StoreError::ExportBehind`]) rather than prune unexported ones or fill
    /// the disk. Until the exporter says where it stands, nothing is pruned.
    pub fn hold_for_export(&self, max_behind: u64) {
        self.export_base.store(self.last.load(Relaxed), Relaxed);
        self.export_max_behind.store(max_behind.max(1), Relaxed);
    }

    /// The exporter's position: every block through `height` is in NATS (None: none is).
    pub fn set_exported(&self, height: Option<Height>) {
        self.exported.store(height.map_or(0, Height::get), Relaxed);
    }

    /// The last block the exporter has published, if it has said.
    pub fn exported(&self) -> Option<Height> {
        match self.exported.load(Relaxed) {
            EXPORT_UNKNOWN => None,
            height => Height::new(height),
        }
    }

    /// While an export holds pruning back: the highest height it surely has (older blocks
    /// may go), and the height its limit counts from. Before the exporter says where it
    /// stands, it may have nothing stored here (nothing goes), but blocks stored before it
    /// started are not counted against it: it may well have them.
    fn export_floor(&self, oldest: u64) -> Option<(u64, u64)> {
        if self.export_max_behind.load(Relaxed) == 0 {
            return None;
        }
        let before_first = match self.first.load(Relaxed) {
            0 => oldest.saturating_sub(1),
            first => first - 1,
        };
        Some(match self.exported.load(Relaxed) {
            EXPORT_UNKNOWN => (
                before_first,
                before_first.max(self.export_base.load(Relaxed)),
            ),
            0 => (before_first, before_first),
            exported => (exported, exported),
        })
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

    /// Stores consecutive blocks after the last stored one, with the state carried past the
    /// last of them (our `app_hash`, and what judging them changed in the tainted outputs),
    /// in one durable commit; drops what falls out of the window.
    pub fn append(
        &self,
        blocks: &[Arc<EncodedBlock>],
        app_hash: &str,
        taint: &Delta,
    ) -> Result<(), StoreError> {
        let Some(newest) = blocks.last() else {
            return Ok(());
        };
        let export = self.export_floor(blocks[0].height.get());
        let floor = export.map(|(prune, _)| prune);
        if let Some((_, counted_from)) = export {
            // Counted to the batch's first block: a batch (up to 5 blocks) may pass the
            // limit by its length, but a limit below the batch length can never stall it.
            let limit = self.export_max_behind.load(Relaxed);
            let behind = blocks[0].height.get().saturating_sub(counted_from);
            if behind > limit {
                return Err(StoreError::ExportBehind { behind, limit });
            }
        }
        let mut last = self.last.load(Relaxed);
        let write = self.db.begin_write().map_err(db)?;
        {
            let mut table = write.open_table(BLOCKS).map_err(db)?;
            for block in blocks {
                if block.height.get() <= last {
                    return Err(StoreError::NotAfter {
                        last,
                        height: block.height.get(),
                    });
                }
                last = block.height.get();
                table
                    .insert(last, stored::encode(block).as_slice())
                    .map_err(db)?;
            }
            let keep_from = self.keep_from(last, floor);
            table.retain_in(..keep_from, |_, _| false).map_err(db)?;
            let mut meta = write.open_table(META).map_err(db)?;
            meta.insert(LAST_HEIGHT, last.to_string().as_bytes())
                .map_err(db)?;
            meta.insert(APP_HASH, app_hash.as_bytes()).map_err(db)?;
            let mut tainted = write.open_table(TAINTED).map_err(db)?;
            for link in &taint.removed {
                tainted
                    .remove((link.transaction_id.as_str(), link.output_index))
                    .map_err(db)?;
            }
            for link in &taint.added {
                tainted
                    .insert((link.transaction_id.as_str(), link.output_index), ())
                    .map_err(db)?;
            }
        }
        write.commit().map_err(db)?;
        let first = self.first.load(Relaxed);
        let oldest = blocks[0].height.get();
        let first = if first == 0 { oldest } else { first };
        self.first
            .store(first.max(self.keep_from(last, floor)), Relaxed);
        self.last.store(newest.height.get(), Relaxed);
        *lock(&self.app_hash) = Some(app_hash.to_owned());
        Ok(())
    }

    /// The oldest height kept once `last` is stored: the history window, reaching back to
    /// the export's `floor` when there is one.
    fn keep_from(&self, last: u64, floor: Option<u64>) -> u64 {
        let window = last.saturating_sub(self.history) + 1;
        floor.map_or(window, |floor| window.min(floor + 1))
    }

    /// Stored blocks from `from` on, in height order, until they hold `max_bytes` as
    /// encoded (at least one block, if there is one).
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
            let height = key.value();
            let damaged = || StoreError::Damaged { height };
            let (block, size) = Height::new(height)
                .and_then(|h| stored::decode(value.value(), h))
                .ok_or_else(damaged)?;
            bytes += size;
            blocks.push(block);
        }
        Ok(blocks)
    }
}

/// A poisoned lock still holds a whole value: every update is one assignment.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;

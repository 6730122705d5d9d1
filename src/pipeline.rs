//! The validate stage's task: [`RawBlock`]s in from the source's channel, encoded blocks
//! out: first to the [`Store`], then to the [`Hub`].
//!
//! The judging itself is pure ([`crate::validate::judge`]) and runs on blocking threads;
//! this task owns what is stateful about it: logging and counting each refusal once,
//! checking our app hash against the node's (as reported with the block on 0.38, or as
//! carried by the next block's header), and the rule that a block is published only once
//! it is stored. Blocks waiting in the channel are judged and stored together, one commit
//! for all of them: while backfilling, the disk syncs once per batch, not once per block.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::chain::{Height, RawBlock};
use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::store::{Store, StoreError};
use crate::validate::judge::{JudgedBlock, Refusal, judge};
use crate::validate::taint::{Delta, Overlay, Taint};
use crate::wire::{self, EncodedBlock};

/// Blocks in flight between the source and the validate stage. A block is validated in a few
/// milliseconds, so a short queue is enough to overlap fetching with validating, and it
/// keeps a slow validate stage pushing back on the source instead of buffering blocks.
pub const BLOCK_QUEUE: usize = 4;

/// Most blocks stored in one commit: what the source can have queued, plus the one in
/// hand.
const COMMIT_BLOCKS: usize = BLOCK_QUEUE + 1;

/// Pause before retrying a batch whose validation or store write failed (a full disk,
/// say). Nothing is published unjudged or unstored, so the stream stops until it works;
/// `/ready` shows the lag grow and `/health` the failure.
const RETRY: Duration = Duration::from_secs(1);

/// Runs until the source closes its channel.
pub async fn run(
    mut blocks: mpsc::Receiver<RawBlock>,
    store: Arc<Store>,
    hub: Hub,
    metrics: Arc<Metrics>,
    threads: usize,
) {
    // Our app hash after the last block, to compare with the next block's header.
    let mut pending_check: Option<(Height, String)> =
        store.last_height().zip(store.last_app_hash());
    // The outputs refused transactions left, as the store had them after the last block.
    let mut taint = Arc::new(load_taint(&store, &metrics).await);
    let mut raws = Vec::with_capacity(COMMIT_BLOCKS);
    while blocks.recv_many(&mut raws, COMMIT_BLOCKS).await > 0 {
        // The source never repeats a height; this keeps a bug there from reaching clients.
        let mut last = store.last_height();
        raws.retain(|raw| {
            let follows = last.is_none_or(|last| raw.height > last);
            if follows {
                last = Some(raw.height);
            } else {
                error!(height = %raw.height, "block repeats a stored height; dropped");
            }
            follows
        });
        if raws.is_empty() {
            continue;
        }
        let batch = Arc::new(std::mem::take(&mut raws));
        let (judged, delta) = judge_until_done(&batch, threads, &taint, &metrics).await;
        let mut encoded = Vec::with_capacity(judged.len());
        let mut app_hash = String::new();
        for (raw, judged) in batch.iter().zip(judged) {
            if let Some((height, ours)) = pending_check.take()
                && judged.height == height.next()
                && raw.previous_app_hash != ours
            {
                app_hash_mismatch(&metrics, height, &ours, &raw.previous_app_hash);
            }
            metrics.record_seen(raw.txs.len());
            report(&judged, &metrics);
            match &judged.reported_app_hash {
                Some(reported) if *reported != judged.app_hash => {
                    app_hash_mismatch(&metrics, judged.height, &judged.app_hash, reported);
                }
                Some(_) => {}
                None => pending_check = Some((judged.height, judged.app_hash.clone())),
            }
            app_hash.clone_from(&judged.app_hash);
            encoded.push(Arc::new(encode(judged)));
        }
        let encoded = Arc::new(encoded);
        let delta = Arc::new(delta);
        if store_until_done(&store, &encoded, app_hash, &delta, &metrics).await {
            // The judging task's reference is gone, so this updates in place.
            Arc::make_mut(&mut taint).apply(&delta);
            metrics.record_tainted(taint.len());
            for (block, raw) in encoded.iter().zip(batch.iter()) {
                hub.publish(block.clone(), raw.received);
            }
        }
        metrics.record_pipeline_ok();
    }
    info!("source closed; validate stage done");
}

/// Judges `batch` on blocking threads. Validation is total over bytes, so a panic is a bug;
/// skipping the blocks would lose them and publishing them unjudged could publish invalid
/// transactions, so the stage stops here, retrying (and saying so) until restarted with a
/// fix, while `/ready` shows the lag grow.
///
/// Judging follows the taint through the batch in block order, over the stored set; what
/// it changed comes back with the verdicts, to be applied once the batch is stored.
async fn judge_until_done(
    batch: &Arc<Vec<RawBlock>>,
    threads: usize,
    taint: &Arc<Taint>,
    metrics: &Metrics,
) -> (Vec<JudgedBlock>, Delta) {
    loop {
        let (blocks, taint) = (batch.clone(), taint.clone());
        let judged = tokio::task::spawn_blocking(move || {
            let mut overlay = Overlay::new(&taint);
            let judged = blocks
                .iter()
                .map(|raw| judge(raw, threads, &mut overlay))
                .collect::<Vec<_>>();
            (judged, overlay.into_delta())
        })
        .await;
        match judged {
            Ok(judged) => return judged,
            Err(panic) => {
                metrics.record_pipeline_failure();
                error!(error = %panic, first = %batch[0].height, retry_in = ?RETRY, "validating blocks panicked; publishing waits");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Stores `blocks` with the state carried past them (our app hash after the last, and what
/// they changed in the taint), retrying until it succeeds: nothing may be published
/// unstored. False when they must not be published at all (they repeat stored heights).
async fn store_until_done(
    store: &Arc<Store>,
    blocks: &Arc<Vec<Arc<EncodedBlock>>>,
    app_hash: String,
    taint: &Arc<Delta>,
    metrics: &Metrics,
) -> bool {
    let app_hash: Arc<str> = app_hash.into();
    loop {
        let (store, task_blocks, hash, delta) = (
            store.clone(),
            blocks.clone(),
            app_hash.clone(),
            taint.clone(),
        );
        let stored =
            tokio::task::spawn_blocking(move || store.append(&task_blocks, &hash, &delta)).await;
        match stored {
            Ok(Ok(())) => {
                if metrics.export_holding() {
                    info!("the NATS export caught up; the stream goes on");
                    metrics.record_export_holding(false);
                }
                return true;
            }
            Ok(Err(error @ StoreError::ExportBehind { .. })) => {
                // Said once: this lasts as long as NATS is away, and /health says it meanwhile.
                if !metrics.export_holding() {
                    warn!(%error, "the stream waits for the NATS export");
                }
                metrics.record_export_holding(true);
            }
            Ok(Err(error @ StoreError::NotAfter { .. })) => {
                // Retrying cannot help, and publishing would repeat a height.
                error!(%error, "blocks dropped");
                return false;
            }
            Ok(Err(error)) => {
                metrics.record_pipeline_failure();
                error!(%error, first = %blocks[0].height, retry_in = ?RETRY, "storing blocks failed; publishing waits");
            }
            Err(panic) => {
                metrics.record_pipeline_failure();
                error!(error = %panic, "storing blocks panicked; retrying");
            }
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// The tainted outputs as stored, read before the first block is judged; retried like a
/// failing write, since judging without them could publish a tainted spend.
async fn load_taint(store: &Arc<Store>, metrics: &Metrics) -> Taint {
    loop {
        let reading = store.clone();
        match tokio::task::spawn_blocking(move || reading.tainted()).await {
            Ok(Ok(taint)) => {
                metrics.record_tainted(taint.len());
                return taint;
            }
            Ok(Err(error)) => {
                error!(%error, retry_in = ?RETRY, "reading the tainted outputs failed; judging waits")
            }
            Err(panic) => error!(error = %panic, "reading the tainted outputs panicked; retrying"),
        }
        metrics.record_pipeline_failure();
        tokio::time::sleep(RETRY).await;
    }
}

/// The messages of a judged block.
fn encode(judged: JudgedBlock) -> EncodedBlock {
    let published = judged
        .published
        .into_iter()
        .map(|tx| (tx.tags, tx.body))
        .collect();
    let messages: Vec<String> = judged.refused.iter().map(|r| r.refusal.message()).collect();
    let refused = judged
        .refused
        .into_iter()
        .zip(&messages)
        .map(|(refused, message)| wire::Refusal {
            index: refused.index,
            code: refused.refusal.node_code(),
            reason: refused.refusal.reason(),
            message,
            tags: refused.tags,
        })
        .collect();
    let block = EncodedBlock::encode(judged.height, &judged.app_hash, published, refused);
    // Indexed once, here, rather than by the first filtered subscriber's task.
    block.index();
    block.refused_index();
    block
}

fn app_hash_mismatch(metrics: &Metrics, height: Height, ours: &str, node: &str) {
    metrics.record_app_hash_mismatch();
    error!(
        %height,
        ours,
        node,
        "app hash differs from the node's: the accepted transactions disagree"
    );
}

/// Logs every refusal once and counts it by reason.
fn report(judged: &JudgedBlock, metrics: &Metrics) {
    let height = judged.height;
    for refused in &judged.refused {
        let id = refused.id.map(|id| id.to_string());
        let reason = refused.refusal.reason();
        metrics.record_refused(reason);
        match &refused.refusal {
            Refusal::NodeRejected { code, log } => {
                info!(%height, index = refused.index, id, code, log, "refused: the node rejected it");
            }
            Refusal::Invalid { message, .. } => {
                warn!(%height, index = refused.index, id, reason, message, "refused: accepted by the node but invalid");
            }
            Refusal::SpendsRefused { output } => {
                warn!(%height, index = refused.index, id, spent = %output.transaction_id, output = output.output_index, "refused: spends an output of a refused transaction");
            }
        }
    }
    for tx in judged.published.iter().filter(|tx| tx.unverifiable) {
        metrics.record_unverifiable();
        warn!(%height, id = %tx.id, "published unverifiable transaction (its zenroom script was not run)");
    }
    if judged.accepted_without_id > 0 {
        error!(%height, count = judged.accepted_without_id, "the node accepted transactions we cannot even hash");
    }
}

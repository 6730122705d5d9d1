//! The validate stage's task: [`RawBlock`]s in from the source's channel, judged blocks out
//! to the [`Hub`].
//!
//! The judging itself is pure ([`crate::validate::block`]) and runs on blocking threads;
//! this task owns what is stateful about it: logging and counting each refusal once, and
//! checking our app hash against the node's, either as reported with the block (0.38) or as
//! carried by the next block's header.

use std::sync::Arc;

use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::hub::Hub;
use crate::metrics::Metrics;
use crate::source::{Height, RawBlock};
use crate::validate::block::{JudgedBlock, Refusal, judge};

/// Runs until the source closes its channel.
pub async fn run(
    mut blocks: mpsc::Receiver<RawBlock>,
    hub: Hub,
    metrics: Arc<Metrics>,
    threads: usize,
) {
    // Our app hash after the last block, to compare with the next block's header.
    let mut pending_check: Option<(Height, String)> = None;
    while let Some(block) = blocks.recv().await {
        if let Some((height, ours)) = pending_check.take()
            && block.height == height.next()
            && block.previous_app_hash != ours
        {
            app_hash_mismatch(&metrics, height, &ours, &block.previous_app_hash);
        }
        metrics.record_seen(block.txs.len());
        let judged = match tokio::task::spawn_blocking(move || judge(&block, threads)).await {
            Ok(judged) => judged,
            Err(panic) => {
                // Validation is total over bytes; a panic is a bug, but it must not take
                // the stream down: the block is skipped loudly.
                error!(error = %panic, "validating a block panicked; block skipped");
                continue;
            }
        };
        report(&judged, &metrics);
        match &judged.reported_app_hash {
            Some(reported) if *reported != judged.app_hash => {
                app_hash_mismatch(&metrics, judged.height, &judged.app_hash, reported);
            }
            Some(_) => {}
            None => pending_check = Some((judged.height, judged.app_hash.clone())),
        }
        hub.publish(&judged);
    }
    info!("source closed; validate stage done");
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
            Refusal::NodeRejected { code } => {
                info!(%height, index = refused.index, id, code, "refused: the node rejected it");
            }
            Refusal::Invalid { message, .. } => {
                warn!(%height, index = refused.index, id, reason, message, "refused: accepted by the node but invalid");
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

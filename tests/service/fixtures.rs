//! The streams match the recorded fixtures: clients connected before the first block get
//! exactly the expected frames of each recorded chain, and `record` against the test node
//! writes the chain files back byte for byte.

use std::time::Duration;

use tokio::time::timeout;

use planetmint_stream::chain::Height;
use planetmint_stream::source::chain_file;

use crate::support::*;

/// Reads both streams to the end of the chain and compares them with the fixtures: first
/// the block heights (every block once, in order: independent of validation), then the
/// exact frames.
async fn assert_streams_match(chain: &str, txs: &mut Client, blocks: &mut Client) {
    let expected_blocks = expected_lines(chain, "valid_blocks");
    let expected_txs = expected_lines(chain, "valid_transactions");
    let got_blocks = collect_texts(blocks, expected_blocks.len(), CHAIN_WITHIN).await;
    assert_heights_and_hashes(chain, &got_blocks, &expected_blocks);
    let got_txs = collect_texts(txs, expected_txs.len(), TXS_AFTER_BLOCKS).await;
    assert_no_more_texts(blocks, "valid_blocks", Duration::from_millis(200)).await;
    assert_no_more_texts(txs, "valid_transactions", Duration::from_millis(200)).await;
    assert_no_diffs([
        diff_lines(
            &format!("{chain} valid_blocks"),
            &got_blocks,
            &expected_blocks,
        ),
        diff_lines(
            &format!("{chain} valid_transactions"),
            &got_txs,
            &expected_txs,
        ),
    ]);
}

/// (a) Clients connected before the first block get exactly the fixture streams.
async fn streams_match_fixtures(chain: &str) {
    let node = TestNode::start(chain).await;
    let service = Service::follow(&node, server_args()).await;
    let mut txs = connect(service.ws, TXS).await;
    let mut blocks = connect(service.ws, BLOCKS).await;
    // The service follows from the first NewBlock event it sees: subscribe before block 1.
    node.wait_for("the service to subscribe", |s| s.active == 1)
        .await;
    node.produce_until(node.last_height());
    assert_streams_match(chain, &mut txs, &mut blocks).await;
    service.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tendermint_0_34_streams_match_fixtures() {
    streams_match_fixtures(CHAINS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometbft_0_38_streams_match_fixtures() {
    streams_match_fixtures(CHAINS[1]).await;
}

/// `record` against the test node (its GET endpoints) writes back the chain file's block
/// lines byte for byte, and a status naming the produced height.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_reproduces_the_chain_files() {
    for chain in CHAINS {
        let node = TestNode::start(chain).await;
        node.produce_until(node.last_height());
        let mut out = Vec::new();
        let written = timeout(
            Duration::from_secs(20),
            chain_file::record(
                &node_args(&node).endpoints[0],
                None,
                Height::new(1).unwrap(),
                None,
                &mut out,
            ),
        )
        .await
        .expect("record timed out")
        .expect("record");
        assert_eq!(written, node.last_height());
        let out = String::from_utf8(out).expect("UTF-8");
        let mut lines = out.lines();
        let status = chain_file::parse_status(lines.next().expect("status line")).expect("status");
        assert_eq!(
            status.sync_info.latest_block_height.value(),
            node.last_height()
        );
        let file =
            std::fs::read_to_string(fixture(&format!("chains/{chain}.chain.jsonl"))).unwrap();
        let recorded: Vec<String> = lines.map(str::to_owned).collect();
        let expected: Vec<String> = file.lines().skip(1).map(str::to_owned).collect();
        assert_no_diffs([diff_lines(
            &format!("{chain} recorded"),
            &recorded,
            &expected,
        )]);
    }
}

//! Streams shaped for client applications: filters on every stream, bodies on request, the
//! refused-transactions stream, and nothing published that spends a forged output, all
//! checked against the reference files of both recorded chains (see
//! [`crate::support::reference`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio_tungstenite::tungstenite;

use planetmint_stream::server::ServerSettings;

use crate::support::*;

/// The service replaying `chain` (in memory), once every block is stored.
async fn replayed(chain: &str, reference: &Reference) -> Service {
    replayed_with(chain, reference, server_args()).await
}

async fn replayed_with(chain: &str, reference: &Reference, args: ServerSettings) -> Service {
    let service = Service::start(replay(chain).await, args).await;
    wait_for_height(service.api, reference.blocks.len() as u64).await;
    service
}

/// Exactly `n` frames of `path?query`, as sent, then nothing more.
async fn texts(ws: SocketAddr, path: &str, query: &str, n: usize) -> Vec<String> {
    let url = format!("{path}?{query}");
    let mut client = connect(ws, &url).await;
    let texts = collect_texts(&mut client, n, WITHIN).await;
    assert_no_more_texts(&mut client, &url, Duration::from_millis(200)).await;
    texts
}

/// [`texts`], parsed.
async fn frames(ws: SocketAddr, path: &str, query: &str, n: usize) -> Vec<Value> {
    texts(ws, path, query, n)
        .await
        .iter()
        .map(|text| serde_json::from_str(text).expect("frames are JSON"))
        .collect()
}

fn assert_same(what: &str, got: &[Value], expected: &[Value]) {
    let lines = |values: &[Value]| values.iter().map(Value::to_string).collect::<Vec<_>>();
    assert_no_diffs([diff_lines(what, &lines(got), &lines(expected))]);
}

/// Filter values drawn from the reference: a key listed in a threshold output beside
/// others, an owner of spent outputs, the most spent asset, and a published id.
struct Picks {
    threshold_key: String,
    owner: String,
    asset: String,
    transaction: String,
    creators: [String; 2],
}

impl Picks {
    fn of(reference: &Reference) -> Picks {
        let bodies = || reference.published.iter().map(|(_, body)| body);
        let threshold_key = bodies()
            .flat_map(|b| b["outputs"].as_array().cloned().unwrap_or_default())
            .find_map(|output| {
                let keys = output["public_keys"].as_array()?;
                (keys.len() > 1).then(|| keys[1].as_str().map(str::to_owned))?
            })
            .expect("a threshold output");
        let transfers = || bodies().filter(|b| b["operation"] == "TRANSFER");
        let owner = transfers()
            .find_map(|b| keys(&b["inputs"], "owners_before").pop())
            .expect("a transfer");
        let mut assets: Vec<&str> = reference
            .published
            .iter()
            .filter(|(_, body)| body["operation"] == "TRANSFER")
            .filter_map(|(message, _)| message["asset_id"].as_str())
            .collect();
        assets.sort_unstable();
        let asset = assets
            .chunk_by(|a, b| a == b)
            .max_by_key(|run| run.len())
            .expect("transfers")[0]
            .to_owned();
        let mut creators = bodies()
            .filter(|b| b["operation"] == "CREATE")
            .filter_map(|b| keys(&b["outputs"], "public_keys").pop());
        let first = creators.next().expect("a creation");
        let second = creators.find(|k| *k != first).expect("another creator");
        Picks {
            threshold_key,
            owner,
            asset,
            transaction: reference.published[7].0["transaction_id"]
                .as_str()
                .expect("an id")
                .to_uppercase(),
            creators: [first, second],
        }
    }

    /// One query per filter key, an OR, and an AND.
    fn queries(&self) -> Vec<Query> {
        let one = |f: fn(&mut Query) -> &mut Vec<String>, value: &str| {
            let mut query = Query::default();
            f(&mut query).push(value.to_owned());
            query
        };
        let mut both = one(|q| &mut q.public_key, &self.creators[0]);
        both.public_key.push(self.creators[1].clone());
        let mut and = both.clone();
        and.operation.push("TRANSFER".into());
        vec![
            one(|q| &mut q.public_key, &self.threshold_key),
            one(|q| &mut q.owner_before, &self.owner),
            one(|q| &mut q.asset_id, &self.asset),
            one(|q| &mut q.operation, "transfer"),
            one(|q| &mut q.transaction_id, &self.transaction),
            both,
            and,
        ]
    }
}

/// Every filter key, an OR (as a comma list and as a repeated key) and an AND select, on
/// each stream, exactly what the reference selects, from history and in block order.
async fn filters_select_what_the_reference_selects(chain: &str) {
    let reference = Reference::of(chain);
    let service = replayed(chain, &reference).await;
    let picks = Picks::of(&reference);
    for query in picks.queries() {
        let q = format!("from_height=1&{}", query.to_query());
        let expected = reference.transaction_lines(&query);
        assert!(
            !expected.is_empty() && expected.len() < reference.published.len(),
            "{q} selects {} of {}: not a test of the filter",
            expected.len(),
            reference.published.len()
        );
        // Byte for byte: a filter picks frames, it never re-encodes them.
        let got = texts(service.ws, TXS, &q, expected.len()).await;
        assert_no_diffs([diff_lines(
            &format!("{chain} valid_transactions?{q}"),
            &got,
            &expected,
        )]);
        let expected = reference.blocks(&query);
        let got = frames(service.ws, BLOCKS, &q, expected.len()).await;
        assert_same(&format!("{chain} valid_blocks?{q}"), &got, &expected);
        let expected: Vec<Value> = reference
            .refusals(&query)
            .iter()
            .map(without_body_and_message)
            .collect();
        let got: Vec<Value> = frames(service.ws, REFUSED, &q, expected.len())
            .await
            .iter()
            .map(without_body_and_message)
            .collect();
        assert_same(
            &format!("{chain} refused_transactions?{q}"),
            &got,
            &expected,
        );
    }
    // The key repeated is the same OR as the comma list.
    let [k1, k2] = &picks.creators;
    let or = Query {
        public_key: vec![k1.clone(), k2.clone()],
        ..Query::default()
    };
    let expected = reference.transaction_lines(&or);
    let q = format!("public_key={k1}&from_height=1&public_key={k2}");
    let got = texts(service.ws, TXS, &q, expected.len()).await;
    assert_no_diffs([diff_lines(
        &format!("{chain} valid_transactions?{q}"),
        &got,
        &expected,
    )]);
    service.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tendermint_0_34_filters_select_what_the_reference_selects() {
    filters_select_what_the_reference_selects(CHAINS[0]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cometbft_0_38_filters_select_what_the_reference_selects() {
    filters_select_what_the_reference_selects(CHAINS[1]).await;
}

/// `transaction=full` and `transactions=full` add the bodies Planetmint's library decoded
/// (NaN and the infinities as null) to the same messages, filtered or not; the refused
/// stream is the reference sequence, its messages saying why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_and_refusals_are_the_references() {
    for chain in CHAINS {
        let reference = Reference::of(chain);
        let service = replayed(chain, &reference).await;
        // Each message is the reference line byte for byte, with the body spliced in before
        // its closing brace; the body is the value Planetmint's library decoded, its exact
        // integers spelled exactly.
        let q = "from_height=1&transaction=full";
        let got = texts(service.ws, TXS, q, reference.published.len()).await;
        for ((frame, line), (_, body)) in got
            .iter()
            .zip(&reference.published_lines)
            .zip(&reference.published)
        {
            let prefix = format!(
                "{},\"transaction\":",
                line.strip_suffix('}').expect("an object")
            );
            let sent = frame
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix('}'))
                .unwrap_or_else(|| panic!("{chain}: {frame} is not {line} with a body"));
            let sent: Value = serde_json::from_str(sent).expect("the body is JSON");
            assert_eq!(&sent, body, "{chain}: the body of {line}");
        }
        assert_eq!(got.len(), reference.published.len());
        let big = 2u128.pow(70).to_string();
        assert!(
            got.iter()
                .any(|frame| frame.contains(&format!(":{big},"))
                    || frame.contains(&format!(":{big}}}"))),
            "{chain}: no body spells 2**70 exactly"
        );

        let picks = Picks::of(&reference);
        let query = &picks.queries()[0];
        let q = format!("transactions=full&from_height=1&{}", query.to_query());
        let matching = reference.transactions(query);
        let expected: Vec<Value> = reference
            .blocks(query)
            .into_iter()
            .map(|mut block| {
                let bodies = reference
                    .published
                    .iter()
                    .filter(|(m, _)| matching.contains(m))
                    .filter(|(m, _)| {
                        block["transaction_ids"]
                            .as_array()
                            .unwrap()
                            .contains(&m["transaction_id"])
                    })
                    .map(|(_, body)| body.clone())
                    .collect();
                block["transactions"] = Value::Array(bodies);
                block
            })
            .collect();
        let got = frames(service.ws, BLOCKS, &q, expected.len()).await;
        assert_same(&format!("{chain} valid_blocks?{q}"), &got, &expected);

        let got = frames(
            service.ws,
            REFUSED,
            "from_height=1",
            reference.refused.len(),
        )
        .await;
        for (frame, line) in got.iter().zip(&reference.refused) {
            let message = frame["message"].as_str().unwrap_or_default();
            let spent = line["transaction"]["inputs"][0]["fulfills"]["transaction_id"]
                .as_str()
                .unwrap_or("?");
            let says = match line["reason"].as_str() {
                // Planetmint's log is empty.
                Some("node_rejected") => message == "rejected by the node",
                Some("signature") => message.contains("fulfillment does not verify"),
                Some("spends_refused") => message.contains(spent),
                _ => false,
            };
            assert!(says, "{chain}: {frame} does not say why {line}");
        }
        let got: Vec<Value> = got.iter().map(without_body_and_message).collect();
        let expected: Vec<Value> = reference
            .refused
            .iter()
            .map(without_body_and_message)
            .collect();
        assert_same(&format!("{chain} refused_transactions"), &got, &expected);
        service.shut_down().await;
    }
}

/// A malformed value, an unknown parameter, too many values or too long a query is refused
/// before the upgrade, with the status and a reason naming it, and counted; the page's
/// check (`/streams/check/<stream>`) answers each the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_refused_with_a_reason() {
    let reference = Reference::of(CHAIN);
    let service = replayed(CHAIN, &reference).await;
    let many: Vec<String> = (0..1_001).map(synthetic_key).collect();
    let cases: Vec<(&str, String, u16, &str)> = vec![
        (TXS, "publickey=x".into(), 400, "publickey"),
        (
            TXS,
            format!("public_key={}O", &synthetic_key(0)[..43]),
            400,
            "public_key",
        ),
        (BLOCKS, "owner_before=".into(), 400, "owner_before"),
        (
            TXS,
            format!("transaction_id={}", "g".repeat(64)),
            400,
            "transaction_id",
        ),
        (
            REFUSED,
            format!("asset_id={}", "a".repeat(63)),
            400,
            "asset_id",
        ),
        (TXS, "operation=BURN".into(), 400, "operation"),
        (TXS, "from_height=0".into(), 400, "from_height"),
        (
            TXS,
            "from_height=1&from_height=2".into(),
            400,
            "from_height",
        ),
        (BLOCKS, "transaction=full".into(), 400, "transaction"),
        (TXS, "transaction=yes".into(), 400, "transaction"),
        (REFUSED, "transaction=full".into(), 400, "transaction"),
        (TXS, format!("public_key={}", many.join(",")), 400, "1000"),
        (
            TXS,
            format!("public_key={}", "k".repeat(61_000)),
            414,
            "bytes",
        ),
    ];
    for (path, query, status, names) in &cases {
        let shown: String = query.chars().take(60).collect();
        match try_connect(service.ws, &format!("{path}?{query}")).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status().as_u16(), *status, "{path}?{shown}");
                let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                    .into_owned();
                assert!(
                    body.contains(names) && body.ends_with('\n') && body.lines().count() == 1,
                    "{path}?{shown}: reason {body:?} does not name {names:?} in one line"
                );
                // The page's check on the API port answers the same, without counting.
                let stream = path.rsplit('/').next().expect("a stream");
                let check = format!("/streams/check/{stream}?{query}");
                let check = get_text(service.api, &check).await;
                assert_eq!(check, (*status, body), "the page's check of {path}?{shown}");
            }
            other => panic!("{path}?{shown} was not refused: {:?}", other.map(|_| ())),
        }
    }
    assert_eq!(
        metric_of(service.api, "planetmint_stream_refused_queries_total").await,
        cases.len() as u64,
        "every refusal is counted"
    );
    service.shut_down().await;
}

/// The filter values all subscribers hold together are bounded: an upgrade that would pass
/// the budget gets 503 and a reason, and a subscriber that leaves gives its values back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filter_values_of_all_subscribers_are_bounded() {
    let reference = Reference::of(CHAIN);
    let args = ServerSettings {
        max_filter_values_total: 3,
        ..server_args()
    };
    let service = replayed_with(CHAIN, &reference, args).await;
    let two = |i: usize| {
        format!(
            "{TXS}?public_key={},{}",
            synthetic_key(i),
            synthetic_key(i + 1)
        )
    };
    let first = connect(service.ws, &two(0)).await;
    let _unfiltered = connect(service.ws, TXS).await;
    match try_connect(service.ws, &two(2)).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 503);
            let body = String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
                .into_owned();
            assert!(body.contains("filter values"), "{body:?}");
        }
        other => panic!(
            "a filter past the budget was admitted: {:?}",
            other.map(|_| ())
        ),
    }
    drop(first);
    let deadline = tokio::time::Instant::now() + WITHIN;
    while try_connect(service.ws, &two(2)).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the values were never given back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    service.shut_down().await;
}

/// The `i`th of distinct keys of Planetmint's public-key form (44 base58 characters) that
/// no transaction uses.
fn synthetic_key(i: usize) -> String {
    const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut key = "1".repeat(40);
    let mut n = i;
    for _ in 0..4 {
        key.push(char::from(BASE58[n % BASE58.len()]));
        n /= BASE58.len();
    }
    key
}

/// A filtered client resuming mid-chain while blocks keep coming gets every matching frame
/// once: history, then live, no gap and no duplicate at the hand-over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_resume_hands_over_exactly() {
    let reference = Reference::of(CHAIN);
    let (node, service) = node_and_service(CHAIN, server_args()).await;
    produce_and_settle(&node, &service, 20).await;
    let query = Picks::of(&reference).queries().remove(5);
    let q = format!("from_height=10&{}", query.to_query());
    let mut txs = connect(service.ws, &format!("{TXS}?{q}")).await;
    let mut blocks = connect(service.ws, &format!("{BLOCKS}?{q}")).await;
    let last = reference.blocks.len() as u64;
    let node = Arc::new(node);
    let producing = tokio::spawn({
        let node = node.clone();
        async move {
            node.produce_until_paced(last, Duration::from_millis(5))
                .await
        }
    });
    let from_10 = |v: &&Value| v["height"].as_u64() >= Some(10);
    let expected: Vec<Value> = reference
        .transactions(&query)
        .iter()
        .filter(from_10)
        .cloned()
        .collect();
    let expected_blocks: Vec<Value> = reference
        .blocks(&query)
        .iter()
        .filter(from_10)
        .cloned()
        .collect();
    let parse = |texts: Vec<String>| -> Vec<Value> {
        texts
            .iter()
            .map(|t| serde_json::from_str(t).expect("JSON"))
            .collect()
    };
    let got = parse(collect_texts(&mut txs, expected.len(), CHAIN_WITHIN).await);
    let got_blocks = parse(collect_texts(&mut blocks, expected_blocks.len(), CHAIN_WITHIN).await);
    producing.await.expect("producing");
    assert_same("filtered valid_transactions from 10", &got, &expected);
    assert_same(
        "filtered valid_blocks from 10",
        &got_blocks,
        &expected_blocks,
    );
    assert_no_more_texts(&mut txs, "txs", Duration::from_millis(200)).await;
    assert_no_more_texts(&mut blocks, "blocks", Duration::from_millis(200)).await;
    service.shut_down().await;
}

/// A TRANSFER of a forged CREATE's output (height 48), a spend of that TRANSFER two blocks
/// later (50), and a spend and its spend in one block (51) are never published, and are on
/// the refused stream as `spends_refused`, with the service SIGKILLed and restarted between
/// 48 and 50: the taint is stored with the cursor.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_outputs_stay_unpublished_across_a_restart() {
    let reference = Reference::of(CHAIN);
    let node = TestNode::start(CHAIN).await;
    node.produce_until(49);
    let data = tempfile::tempdir().expect("a data directory");
    let port = node.addr().port().to_string();
    let args = || {
        let mut args: Vec<&std::ffi::OsStr> = serve_args(data.path()).to_vec();
        args.extend(["--start-height", "1"].map(std::ffi::OsStr::new));
        args
    };
    let first = Binary::start(args(), &node_env(&port)).await;
    wait_for_height(first.api, 49).await;
    first.signal("KILL");
    let _ = first.wait(Duration::from_secs(5)).await;
    let second = Binary::start(args(), &node_env(&port)).await;
    let last = reference.blocks.len() as u64;
    node.produce_until(last);
    wait_for_height(second.api, last).await;

    let everything = Query::default();
    let got = frames(second.ws, TXS, "from_height=1", reference.published.len()).await;
    assert_same(
        "valid_transactions across the restart",
        &got,
        &reference.transactions(&everything),
    );
    let expected: Vec<Value> = reference
        .refused
        .iter()
        .filter(|line| line["height"].as_u64() >= Some(48))
        .map(without_body_and_message)
        .collect();
    assert!(
        expected.len() == 4 && expected.iter().all(|l| l["reason"] == "spends_refused"),
        "the reference's four tainted spends are the refusals from 48 on: {expected:?}"
    );
    let got: Vec<Value> = frames(second.ws, REFUSED, "from_height=48", 4)
        .await
        .iter()
        .map(without_body_and_message)
        .collect();
    assert_same("tainted spends across the restart", &got, &expected);
    second.signal("TERM");
    let (status, _) = second.wait(Duration::from_secs(5)).await;
    assert!(status.success(), "exit status {status}");
}

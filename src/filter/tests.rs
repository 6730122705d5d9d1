use super::*;
use crate::wire::index::Tags;

const ID: &str = "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9";
const KEY: &str = "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStK";

fn sub(stream: StreamKind, query: &str) -> Subscription {
    parse(stream, Some(query), &QueryLimits::default()).unwrap()
}

fn refused(stream: StreamKind, query: &str) -> QueryError {
    parse(stream, Some(query), &QueryLimits::default()).unwrap_err()
}

fn message(stream: StreamKind, query: &str) -> String {
    let error = refused(stream, query);
    assert_eq!(error.status(), 400, "{error}");
    error.to_string()
}

const STREAMS: [StreamKind; 3] = [
    StreamKind::Transactions,
    StreamKind::Blocks,
    StreamKind::Refused,
];

#[test]
fn no_query_is_everything_live_ids_only() {
    for stream in STREAMS {
        for query in [None, Some(""), Some("&")] {
            let got = parse(stream, query, &QueryLimits::default()).unwrap();
            assert_eq!(
                got,
                Subscription {
                    from: None,
                    filter: Filter::default(),
                    bodies: false
                }
            );
            assert!(got.filter.is_everything());
        }
    }
}

/// Refused queries, and the one line each is answered with.
#[rustfmt::skip]
const REFUSALS: &[(StreamKind, &str, &str)] = &[
    (StreamKind::Blocks, "from_height=0", "from_height must be a positive integer"),
    (StreamKind::Blocks, "from_height=-1", "from_height must be a positive integer"),
    (StreamKind::Blocks, "from_height=x", "from_height must be a positive integer"),
    (StreamKind::Blocks, "from_height=1.5", "from_height must be a positive integer"),
    (StreamKind::Blocks, "from_height=", "from_height must be a positive integer"),
    (StreamKind::Blocks, "from_height=99999999999999999999", "from_height must be a positive integer"),
    (StreamKind::Blocks, "from_height=3&from_height=3", "from_height may be given only once"),
    (StreamKind::Transactions, "transactions=full", "parameter \"transactions\" is not taken on valid_transactions"),
    (StreamKind::Blocks, "transaction=id", "parameter \"transaction\" is not taken on valid_blocks"),
    (StreamKind::Refused, "transaction=full", "parameter \"transaction\" is not taken on refused_transactions"),
    (StreamKind::Refused, "transactions=id", "parameter \"transactions\" is not taken on refused_transactions"),
    (StreamKind::Transactions, "transaction=FULL", "transaction must be \"id\" or \"full\", not \"FULL\""),
    (StreamKind::Blocks, "transactions=id&transactions=full", "transactions may be given only once"),
    (StreamKind::Transactions, "publickey=x", "unknown parameter \"publickey\""),
    (StreamKind::Refused, "from_height=2&Operation=VOTE", "unknown parameter \"Operation\""),
    (StreamKind::Blocks, "=x", "unknown parameter \"\""),
    (StreamKind::Refused, "transaction_id=", "transaction_id has an empty value"),
    (StreamKind::Transactions, "public_key=0abc", "public_key \"0abc\" is not a base58 ed25519 public key"),
    (StreamKind::Blocks, "owner_before=a+b", "owner_before \"a b\" is not a base58 ed25519 public key"),
    (StreamKind::Blocks, "asset_id=xyz", "asset_id \"xyz\" is not a 64-digit hex id"),
    (StreamKind::Refused, "operation=FOO%0Abar", "operation \"FOO\\nbar\" is not a Planetmint operation"),
];

#[test]
fn refusals_are_one_line_naming_the_parameter_and_the_value() {
    for (stream, query, expected) in REFUSALS {
        assert_eq!(message(*stream, query), *expected, "{query}");
    }
    assert_eq!(
        sub(StreamKind::Refused, "from_height=12").from,
        Height::new(12)
    );
}

#[test]
fn errors_repeat_no_long_name_or_value() {
    let long_name = message(StreamKind::Blocks, &"n".repeat(5_000));
    let long_value = message(
        StreamKind::Blocks,
        &format!("transaction_id={}", "g".repeat(900)),
    );
    for error in [long_name, long_value] {
        assert!(error.len() < 2 * MAX_SHOWN_CHARS, "{error}");
        assert!(error.contains("...\""), "{error}");
    }
}

#[test]
fn each_stream_takes_its_own_spelling_of_bodies() {
    let bodies = |stream, query| sub(stream, query).bodies;
    assert!(bodies(StreamKind::Transactions, "transaction=full"));
    assert!(!bodies(StreamKind::Transactions, "transaction=id"));
    assert!(bodies(StreamKind::Blocks, "transactions=full"));
    assert!(!bodies(StreamKind::Blocks, "transactions=id"));
    let full = sub(StreamKind::Blocks, "transactions=full");
    assert!(full.filter.is_everything());
    for name in ["transaction", "transactions"] {
        let error = refused(StreamKind::Refused, &format!("{name}=full"));
        assert!(matches!(error, QueryError::NotOnStream { .. }), "{error}");
    }
}

#[test]
fn values_are_a_comma_list_a_repeated_key_or_both_and_count_once() {
    let other = "8".repeat(44);
    let query = format!("public_key={KEY},{other}&public_key={other}&public_key={KEY}");
    let got = sub(StreamKind::Transactions, &query);
    assert_eq!(got.filter.values(), 2);
    // An encoded comma still separates values, as Planetmint's lists split the decoded text.
    let query = format!("public_key={KEY}%2C{other}");
    assert_eq!(sub(StreamKind::Transactions, &query).filter, got.filter);
    // Key order does not make another filter.
    let one = sub(
        StreamKind::Blocks,
        &format!("asset_id={ID}&operation=CREATE"),
    );
    let two = sub(
        StreamKind::Blocks,
        &format!("operation=create&asset_id={ID}"),
    );
    assert_eq!(one.filter, two.filter);
    assert_eq!(one.filter.values(), 2);
}

#[test]
fn an_empty_value_is_refused() {
    for query in [
        "public_key=",
        "owner_before",
        "operation=CREATE,,VOTE",
        "operation=CREATE,",
        "asset_id=&asset_id=",
    ] {
        let error = refused(StreamKind::Transactions, query);
        let empty = matches!(error, QueryError::EmptyValue { .. });
        assert!(empty, "{query}: {error}");
    }
}

#[test]
fn too_many_values_counts_distinct_values_over_all_keys() {
    let limits = QueryLimits { max_values: 4 };
    let query = format!("operation=CREATE,VOTE&public_key={KEY},{KEY}&asset_id={ID}");
    assert_eq!(
        parse(StreamKind::Blocks, Some(&query), &limits)
            .unwrap()
            .filter
            .values(),
        4
    );
    let error = parse(
        StreamKind::Blocks,
        Some(&format!("{query}&operation=COMPOSE")),
        &limits,
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "too many filter values: 5 (at most 4)");
    assert_eq!(error.status(), 400);
}

#[test]
fn the_default_limit_takes_a_thousand_keys_in_the_longest_query() {
    // Distinct 44-character keys, sent the longest way: a repeated `owner_before=`.
    let keys: Vec<String> = (0..=DEFAULT_MAX_FILTER_VALUES)
        .map(|i| format!("{i:x>44}").replace('0', "z"))
        .collect();
    let query = |keys: &[String]| {
        let pairs: Vec<String> = keys.iter().map(|k| format!("owner_before={k}")).collect();
        pairs.join("&") + "&from_height=18446744073709551615&transaction=full"
    };
    let thousand = query(&keys[..DEFAULT_MAX_FILTER_VALUES]);
    assert!(thousand.len() <= MAX_QUERY_BYTES, "{}", thousand.len());
    let got = sub(StreamKind::Transactions, &thousand);
    assert_eq!(got.filter.values(), DEFAULT_MAX_FILTER_VALUES);
    assert_eq!(
        message(StreamKind::Transactions, &query(&keys)),
        "too many filter values: 1001 (at most 1000)"
    );
}

#[test]
fn an_overlong_query_is_a_414_before_anything_is_parsed() {
    let query = "x".repeat(MAX_QUERY_BYTES + 1);
    let error = refused(StreamKind::Blocks, &query);
    assert!(matches!(error, QueryError::TooLong { bytes } if bytes == MAX_QUERY_BYTES + 1));
    assert_eq!(error.status(), 414);
    assert_eq!(
        error.to_string(),
        format!(
            "query is {} bytes (at most {MAX_QUERY_BYTES})",
            MAX_QUERY_BYTES + 1
        )
    );
}

/// Planetmint 2.5.3's validators (web/views/parameters.py: `valid_txid`, `valid_ed25519`,
/// `valid_operation`) on 70 values, one JSON line each, `{"kind", "value", "accepted",
/// "normalized"}`, written by tools/gen_query_params.py from Planetmint's own functions.
const PLANETMINT: &str = include_str!("../../fixtures/query_params.jsonl");

#[derive(serde::Deserialize)]
struct Reference {
    kind: String,
    value: String,
    accepted: bool,
    normalized: Option<String>,
}

/// The fields Planetmint's validator for `kind` checks here.
fn fields_of(kind: &str) -> &'static [Field] {
    match kind {
        "transaction_id" => &[Field::TransactionId, Field::AssetId],
        "public_key" => &[Field::PublicKey, Field::OwnerBefore],
        "operation" => &[Field::Operation],
        _ => panic!("unknown kind {kind:?}"),
    }
}

#[test]
fn values_are_checked_and_normalized_as_planetmint_does() {
    let mut checked = 0;
    for line in PLANETMINT.lines() {
        let case: Reference = serde_json::from_str(line).unwrap();
        assert_eq!(case.accepted, case.normalized.is_some(), "{line}");
        // Planetmint's REST API names two operations; blocks carry seven, and the filter
        // takes each by the same rule (upper-cased, then a name).
        let upper = case.value.to_uppercase();
        // And what Planetmint accepts with a trailing newline is kept without it.
        let expected = match case.kind.as_str() {
            "operation" if !case.accepted && OPERATIONS.contains(&upper.as_str()) => Some(upper),
            _ => case
                .normalized
                .map(|v| v.strip_suffix('\n').map_or(v.clone(), str::to_owned)),
        };
        for field in fields_of(&case.kind) {
            let ours = normalize(*field, &case.value).ok();
            assert_eq!(ours, expected, "{} {:?}", field.name(), case.value);
            checked += 1;
        }
    }
    assert_eq!(checked, 2 * 20 + 2 * 20 + 30);
    let operations: Vec<_> = [
        "compose",
        "Decompose",
        "validator_election",
        "valıdator_electıon",
    ]
    .into_iter()
    .map(|op| normalize(Field::Operation, op).unwrap())
    .collect();
    assert_eq!(
        operations,
        [
            "COMPOSE",
            "DECOMPOSE",
            "VALIDATOR_ELECTION",
            "VALIDATOR_ELECTION"
        ]
    );
}

/// Seven transactions: alice and bob own and spend, carol only receives.
fn block() -> BlockIndex {
    let tx = |id: &str, op: &str, asset: &str, to: &[&str], from: &[&str]| Tags {
        transaction_id: Some(id.to_owned()),
        operation: Some(op.to_owned()),
        asset_ids: vec![asset.to_owned()],
        public_keys: to.iter().map(|k| (*k).to_owned()).collect(),
        owners_before: from.iter().map(|k| (*k).to_owned()).collect(),
    };
    BlockIndex::new(&[
        tx("t0", "CREATE", "t0", &["alice"], &["alice"]),
        tx("t1", "TRANSFER", "t0", &["bob"], &["alice"]),
        tx("t2", "CREATE", "t2", &["bob", "carol"], &["bob"]),
        Tags::default(),
        tx("t4", "TRANSFER", "t2", &["alice", "alice"], &["bob"]),
        tx("t5", "VOTE", "t5", &["carol"], &["alice", "bob"]),
        tx("t6", "TRANSFER", "t0", &["carol"], &["bob"]),
    ])
}

/// A filter with `values` on each field, built as `parse` builds it.
fn filter(fields: &[(Field, &[&str])]) -> Filter {
    Filter {
        fields: fields
            .iter()
            .map(|(field, values)| (*field, values.iter().map(|v| (*v).to_owned()).collect()))
            .collect(),
    }
}

#[test]
fn one_value_selects_the_transactions_holding_it() {
    let index = block();
    let select = |field, value| filter(&[(field, &[value])]).select(&index);
    assert_eq!(select(Field::PublicKey, "alice"), [0, 4]);
    assert_eq!(select(Field::OwnerBefore, "alice"), [0, 1, 5]);
    assert_eq!(select(Field::AssetId, "t0"), [0, 1, 6]);
    assert_eq!(select(Field::Operation, "VOTE"), [5]);
    assert_eq!(select(Field::TransactionId, "t2"), [2]);
    assert!(select(Field::PublicKey, "dave").is_empty());
}

#[test]
fn values_of_one_field_are_ored_in_block_order_without_repeats() {
    let index = block();
    let keys = filter(&[(Field::PublicKey, &["carol", "alice", "bob"])]);
    assert_eq!(keys.select(&index), [0, 1, 2, 4, 5, 6]);
    let ops = filter(&[(Field::Operation, &["VOTE", "CREATE", "COMPOSE"])]);
    assert_eq!(ops.select(&index), [0, 2, 5]);
}

#[test]
fn fields_are_anded() {
    let index = block();
    let carol_transfers = filter(&[
        (Field::PublicKey, &["carol"]),
        (Field::Operation, &["TRANSFER"]),
    ]);
    assert_eq!(carol_transfers.select(&index), [6]);
    let nothing = filter(&[(Field::OwnerBefore, &["alice"]), (Field::AssetId, &["t2"])]);
    assert!(nothing.select(&index).is_empty());
}

#[test]
fn ors_within_and_across_fields_combine() {
    let index = block();
    // (sent to alice or carol) and (spent by bob) and (a transfer or a vote).
    let combined = filter(&[
        (Field::PublicKey, &["alice", "carol"]),
        (Field::OwnerBefore, &["bob"]),
        (Field::Operation, &["TRANSFER", "VOTE"]),
    ]);
    assert_eq!(combined.select(&index), [4, 5, 6]);
    // Parsed from a query: operations are upper-cased to the names the index holds.
    let parsed = sub(
        StreamKind::Transactions,
        "operation=transfer&operation=Vote",
    );
    assert_eq!(parsed.filter.select(&index), [1, 4, 5, 6]);
}

#[test]
fn union_merges_lists_without_repeats() {
    assert_eq!(union([&[4, 9][..], &[1, 4], &[]].into_iter()), [1, 4, 9]);
    assert!(union(std::iter::empty()).is_empty());
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "takes everything")]
fn select_on_everything_is_a_caller_bug() {
    Filter::default().select(&block());
}

#[test]
fn a_trailing_newline_is_taken_as_planetmint_takes_it_and_dropped() {
    // `re.match("^...$", v)` matches before one final `\n`; a second one, or one inside, fails.
    let id = "AB".repeat(32);
    let key = "3RUtgMVfFVoWvUPLorTTbS93V5FkrB43F1D5JNnKNW7R";
    assert_eq!(
        normalize(Field::TransactionId, &format!("{id}\n")).unwrap(),
        id.to_lowercase()
    );
    assert_eq!(
        normalize(Field::PublicKey, &format!("{key}\n")).unwrap(),
        key
    );
    assert!(normalize(Field::PublicKey, &format!("{key}\n\n")).is_err());
    assert!(normalize(Field::AssetId, &format!("\n{id}")).is_err());
}

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

#[test]
fn from_height_is_one_positive_integer() {
    let got = sub(StreamKind::Refused, "from_height=12");
    assert_eq!(got.from, Height::new(12));
    assert!(got.filter.is_everything());
    for bad in ["0", "-1", "x", "", "1.5", "99999999999999999999"] {
        assert_eq!(
            message(StreamKind::Blocks, &format!("from_height={bad}")),
            "from_height must be a positive integer"
        );
    }
    assert_eq!(
        message(StreamKind::Blocks, "from_height=3&from_height=3"),
        "from_height may be given only once"
    );
}

#[test]
fn each_stream_takes_its_own_spelling_of_bodies() {
    let bodies = |stream, query| sub(stream, query).bodies;
    assert!(bodies(StreamKind::Transactions, "transaction=full"));
    assert!(!bodies(StreamKind::Transactions, "transaction=id"));
    assert!(bodies(StreamKind::Blocks, "transactions=full"));
    assert!(!bodies(StreamKind::Blocks, "transactions=id"));
    assert!(
        sub(StreamKind::Blocks, "transactions=full")
            .filter
            .is_everything()
    );
    assert_eq!(
        message(StreamKind::Transactions, "transactions=full"),
        "parameter \"transactions\" is not taken on valid_transactions"
    );
    assert_eq!(
        message(StreamKind::Blocks, "transaction=id"),
        "parameter \"transaction\" is not taken on valid_blocks"
    );
    for name in ["transaction", "transactions"] {
        let error = refused(StreamKind::Refused, &format!("{name}=full"));
        assert!(matches!(error, QueryError::NotOnStream { .. }), "{error}");
    }
    assert_eq!(
        message(StreamKind::Transactions, "transaction=FULL"),
        "transaction must be \"id\" or \"full\", not \"FULL\""
    );
    assert_eq!(
        message(StreamKind::Blocks, "transactions=id&transactions=full"),
        "transactions may be given only once"
    );
}

#[test]
fn unknown_parameters_are_named() {
    for stream in STREAMS {
        assert_eq!(
            message(stream, "publickey=x"),
            "unknown parameter \"publickey\""
        );
    }
    assert_eq!(message(StreamKind::Blocks, "=x"), "unknown parameter \"\"");
    let long = "n".repeat(5_000);
    let error = message(StreamKind::Blocks, &long);
    assert!(error.len() < 2 * MAX_SHOWN_CHARS, "{error}");
}

#[test]
fn values_are_a_comma_list_a_repeated_key_or_both_and_count_once() {
    let other = "8".repeat(44);
    let got = sub(
        StreamKind::Transactions,
        &format!("public_key={KEY},{other}&public_key={other}&public_key={KEY}"),
    );
    assert_eq!(got.filter.values(), 2);
    // An encoded comma still separates values, as Planetmint's lists split the decoded text.
    let encoded = sub(
        StreamKind::Transactions,
        &format!("public_key={KEY}%2C{other}"),
    );
    assert_eq!(encoded.filter, got.filter);
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
        assert!(
            matches!(error, QueryError::EmptyValue { .. }),
            "{query}: {error}"
        );
    }
    assert_eq!(
        message(StreamKind::Refused, "transaction_id="),
        "transaction_id has an empty value"
    );
}

#[test]
fn invalid_values_name_the_parameter_and_a_short_value() {
    assert_eq!(
        message(StreamKind::Transactions, "public_key=0abc"),
        "public_key \"0abc\" is not a base58 ed25519 public key"
    );
    assert_eq!(
        message(StreamKind::Blocks, "owner_before=a+b"),
        "owner_before \"a b\" is not a base58 ed25519 public key"
    );
    assert_eq!(
        message(StreamKind::Blocks, "asset_id=xyz"),
        "asset_id \"xyz\" is not a 64-digit hex id"
    );
    assert_eq!(
        message(StreamKind::Refused, "operation=FOO%0Abar"),
        "operation \"FOO\\nbar\" is not a Planetmint operation"
    );
    let error = message(
        StreamKind::Blocks,
        &format!("transaction_id={}", "g".repeat(900)),
    );
    assert!(error.len() < 2 * MAX_SHOWN_CHARS + 40, "{error}");
    assert!(error.contains("..."), "{error}");
}

#[test]
fn too_many_values_counts_distinct_values_over_all_keys() {
    let limits = QueryLimits { max_values: 3 };
    let query = format!("operation=CREATE,VOTE&public_key={KEY},{KEY}&asset_id={ID}");
    assert_eq!(
        parse(StreamKind::Blocks, Some(&query), &limits)
            .unwrap()
            .filter
            .values(),
        3
    );
    let error = parse(
        StreamKind::Blocks,
        Some(&format!("{query}&operation=COMPOSE")),
        &limits,
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "too many filter values: 4 (at most 3)");
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

/// Planetmint 2.5.3's validators (web/views/parameters.py) on these values, as run with the
/// reference packages: the value, and what the validator returned (None: ValueError).
const PLANETMINT: &[(Field, &str, Option<&str>)] = &[
    (Field::TransactionId, ID, Some(ID)),
    (
        Field::TransactionId,
        "FCC8DEE0410B4D10A05F5A47728166B8773F78F7D517E1A3196A9911FC223BE9",
        Some(ID),
    ),
    (
        Field::AssetId,
        "FCC8DEE0410B4D10A05F5A47728166B8773f78f7d517e1a3196a9911fc223be9",
        Some(ID),
    ),
    (
        Field::TransactionId,
        "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be",
        None,
    ),
    (
        Field::TransactionId,
        "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9a",
        None,
    ),
    (
        Field::TransactionId,
        "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223beg",
        None,
    ),
    (
        Field::TransactionId,
        "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9\n",
        Some("fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9\n"),
    ),
    (
        Field::TransactionId,
        "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9\n\n",
        None,
    ),
    (
        Field::TransactionId,
        " fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9",
        None,
    ),
    (
        Field::AssetId,
        "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9 ",
        None,
    ),
    (
        Field::AssetId,
        "\nfcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223be9",
        None,
    ),
    (
        Field::AssetId,
        "fcc8dee0410b4d10a05f5a47728166b8773f78f7d517e1a3196a9911fc223bé",
        None,
    ),
    (
        Field::AssetId,
        "００００００００００００００００００００００００００００００００００００００００００００００００００００００００００００００００",
        None,
    ),
    (Field::PublicKey, KEY, Some(KEY)),
    (
        Field::PublicKey,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuSt",
        Some("9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuSt"),
    ),
    (
        Field::PublicKey,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuS",
        None,
    ),
    (
        Field::PublicKey,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStK1",
        None,
    ),
    (
        Field::OwnerBefore,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuSt0",
        None,
    ),
    (
        Field::OwnerBefore,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStO",
        None,
    ),
    (
        Field::OwnerBefore,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStI",
        None,
    ),
    (
        Field::OwnerBefore,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStl",
        None,
    ),
    (
        Field::PublicKey,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuSt_",
        None,
    ),
    (
        Field::PublicKey,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStK\n",
        Some("9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStK\n"),
    ),
    (
        Field::PublicKey,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStK\n\n",
        None,
    ),
    (
        Field::PublicKey,
        " 9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuStK",
        None,
    ),
    (
        Field::PublicKey,
        "9EnGHhPkm5ypEJgKNuxAyJK9irKe6qcfjyEkNv8CuSté",
        None,
    ),
    (
        Field::PublicKey,
        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        Some("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ),
    (
        Field::OwnerBefore,
        "1111111111111111111111111111111111111111111",
        Some("1111111111111111111111111111111111111111111"),
    ),
    (Field::Operation, "CREATE", Some("CREATE")),
    (Field::Operation, "create", Some("CREATE")),
    (Field::Operation, "creatE", Some("CREATE")),
    (Field::Operation, "Transfer", Some("TRANSFER")),
    (Field::Operation, "tranſfer", Some("TRANSFER")),
    (Field::Operation, "compose", None),
    (Field::Operation, "Decompose", None),
    (Field::Operation, "validator_election", None),
    (Field::Operation, "valıdator_electıon", None),
    (Field::Operation, "Chain_migration_election", None),
    (Field::Operation, "VOTE", None),
    (Field::Operation, "create ", None),
    (Field::Operation, " CREATE", None),
    (Field::Operation, "Create\n", None),
    (Field::Operation, "FOO", None),
    (Field::Operation, "ﬀ", None),
    (Field::Operation, "GENESIS", None),
];

#[test]
fn values_are_checked_and_normalized_as_planetmint_does() {
    for &(field, value, planetmint) in PLANETMINT {
        let ours = normalize(field, value).ok();
        // Planetmint's REST API names two operations; blocks carry seven, and the filter
        // takes each by the same rule (upper-cased, then a name).
        let widened = field == Field::Operation && planetmint.is_none();
        let expected = match widened {
            true => OPERATIONS
                .into_iter()
                .find(|name| *name == value.to_uppercase())
                .map(str::to_owned),
            false => planetmint.map(str::to_owned),
        };
        assert_eq!(ours, expected, "{} {value:?}", field.name());
    }
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
    // The same through the query parser.
    let parsed = sub(
        StreamKind::Transactions,
        "operation=transfer&public_key=alice,carol&operation=vote&owner_before=bob",
    );
    assert_eq!(parsed.filter.values(), 5);
}

#[test]
fn intersect_keeps_what_both_sides_hold() {
    assert_eq!(intersect(vec![1, 3, 5, 7], &[0, 3, 4, 7, 9]), [3, 7]);
    assert!(intersect(vec![1, 2], &[]).is_empty());
    assert_eq!(union([&[4, 9][..], &[1, 4], &[]].into_iter()), [1, 4, 9]);
}

#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "takes everything")]
fn select_on_everything_is_a_caller_bug() {
    Filter::default().select(&block());
}

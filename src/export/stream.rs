//! The chain's JetStream stream: created with settings that make the export safe, or, when
//! it exists, checked for them; and where the export stands in it.
//!
//! In: a JetStream context, the stream's name, the chain's [`Layout`]. Out: the stream, or
//! why it cannot be used; the [`Position`] read from its last message. The compatibility
//! rules are a pure function ([`incompatibility`]) with unit tests.

use std::time::Duration;

use async_nats::jetstream::stream::{Config, DiscardPolicy, RetentionPolicy, StorageType, Stream};
use async_nats::jetstream::{self, context};

use super::ExportError;
use super::layout::{Layout, Position};

/// How long a resent message is recognized as a duplicate. Resends happen within seconds
/// (a lost acknowledgement, a reconnect); the position read at every reconnect covers any
/// longer gap, so the window is a second line of defence, not the only one.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// The stream config this service creates.
pub fn config(name: &str, layout: &Layout, replicas: usize) -> Config {
    Config {
        name: name.to_owned(),
        subjects: vec![layout.filter()],
        storage: StorageType::File,
        retention: RetentionPolicy::Limits,
        discard: DiscardPolicy::Old,
        duplicate_window: DUPLICATE_WINDOW,
        max_message_size: -1,
        num_replicas: replicas,
        description: Some("Planetmint event stream export (planetmint-stream)".into()),
        ..Config::default()
    }
}

/// Why an existing stream cannot hold this export, if it cannot: one phrase.
pub fn incompatibility(existing: &Config, wanted: &Config, max_payload: usize) -> Option<String> {
    if existing.subjects != wanted.subjects {
        // Another publisher on the stream would break the sequence the export relies on.
        return Some(format!(
            "has subjects {:?}, not exactly {:?}",
            existing.subjects, wanted.subjects
        ));
    }
    if existing.storage != StorageType::File {
        return Some("is not on file storage".into());
    }
    if existing.retention != RetentionPolicy::Limits {
        // Work-queue or interest retention deletes what consumers took, and with it the
        // export's position.
        return Some("does not use limits retention".into());
    }
    if existing.sealed {
        return Some("is sealed".into());
    }
    let limit = existing.max_message_size;
    if limit >= 0 && usize::try_from(limit).unwrap_or(0) < max_payload {
        return Some(format!(
            "limits messages to {limit} bytes, less than the server's max_payload {max_payload}"
        ));
    }
    if existing.duplicate_window.is_zero() {
        return Some("has no duplicate window".into());
    }
    if existing.no_ack {
        return Some("acknowledges no publish".into());
    }
    let limited =
        existing.max_messages > 0 || existing.max_bytes > 0 || !existing.max_age.is_zero();
    if existing.discard == DiscardPolicy::New && limited {
        // Full, it would refuse every publish from then on.
        return Some("discards new messages at its limits".into());
    }
    None
}

/// The stream, created if missing, checked if not.
pub async fn ensure(
    js: &jetstream::Context,
    wanted: Config,
    max_payload: usize,
) -> Result<Stream, ExportError> {
    let name = wanted.name.clone();
    match js.get_stream(&name).await {
        Ok(mut stream) => {
            let existing = stream
                .info()
                .await
                .map_err(ExportError::stream)?
                .config
                .clone();
            match incompatibility(&existing, &wanted, max_payload) {
                Some(why) => Err(ExportError::Incompatible { stream: name, why }),
                None => Ok(stream),
            }
        }
        Err(error)
            if matches!(
                error.kind(),
                context::GetStreamErrorKind::JetStream(ref e)
                    if e.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            ) =>
        {
            js.create_stream(wanted).await.map_err(|source| {
                // The server refused the settings (overlapping subjects, more replicas than
                // servers): retrying cannot help. A timeout can.
                if matches!(source.kind(), context::CreateStreamErrorKind::JetStream(_)) {
                    ExportError::Create {
                        stream: name.clone(),
                        source,
                    }
                } else {
                    ExportError::stream(source)
                }
            })
        }
        Err(error) => Err(ExportError::stream(error)),
    }
}

/// Where the export stands: the stream's last message says what it holds, since the export
/// alone publishes to it and never leaves a gap (see `super::publish_block`). Also returns
/// the stream's last sequence, which the next publish expects.
pub async fn position(stream: &mut Stream) -> Result<(Position, u64), ExportError> {
    let last = stream
        .info()
        .await
        .map_err(ExportError::stream)?
        .state
        .last_sequence;
    if last == 0 {
        return Ok((Position::Empty, 0));
    }
    let message = stream
        .get_raw_message(last)
        .await
        .map_err(ExportError::read)?;
    let header = |name: &str| {
        message
            .headers
            .get(name)
            .map(|value| value.as_str().to_owned())
    };
    let position = Position::of_last(message.subject.as_str(), header).ok_or_else(|| {
        ExportError::Foreign {
            sequence: last,
            subject: message.subject.to_string(),
        }
    })?;
    Ok((position, last))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_stream_the_export_alone_writes_durably_is_compatible() {
        let layout = Layout::new("chain");
        let wanted = config("PLANETMINT", &layout, 1);
        assert_eq!(incompatibility(&wanted, &wanted, 1 << 20), None);
        type Change = fn(&mut Config);
        let broken: [(Change, &str); 8] = [
            (|c| c.subjects = vec!["planetmint.>".into()], "subjects"),
            (|c| c.storage = StorageType::Memory, "file storage"),
            (
                |c| c.retention = RetentionPolicy::WorkQueue,
                "limits retention",
            ),
            (|c| c.sealed = true, "sealed"),
            (|c| c.max_message_size = 1024, "max_payload"),
            (|c| c.duplicate_window = Duration::ZERO, "duplicate window"),
            (|c| c.no_ack = true, "acknowledges"),
            (
                |c| {
                    c.discard = DiscardPolicy::New;
                    c.max_messages = 10;
                },
                "discards new",
            ),
        ];
        for (change, named) in broken {
            let mut existing = wanted.clone();
            change(&mut existing);
            let why = incompatibility(&existing, &wanted, 1 << 20).expect("incompatible");
            assert!(why.contains(named), "{why:?} should name {named:?}");
        }
        let mut roomy = wanted.clone();
        roomy.max_message_size = 8 << 20;
        assert_eq!(incompatibility(&roomy, &wanted, 1 << 20), None);
    }
}

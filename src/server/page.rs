//! The browser page on the API port: `GET /streams` serves `page.html`, one self-contained
//! file (inline style and script, no external assets, no build step) where a person picks a
//! stream, types filters, connects and watches the messages arrive; `GET
//! /streams/check/{stream}?<query>` tells it, before it connects, whether that stream takes
//! the query.
//!
//! In: the advertised stream URL (the one origin besides its own the page may reach), the
//! query limits. Out: the [`Router`] the API router adds its routes to. The check runs
//! [`filter::parse`] and answers a refusal exactly as the upgrade would
//! ([`super::refused_query`]), 204 otherwise: a browser cannot read the body of a refused
//! WebSocket upgrade, so without it the page could only say that connecting failed.

use axum::Router;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use tracing::warn;

use super::refused_query;
use crate::filter::{self, QueryLimits};
use crate::wire::StreamKind;

/// The page, compiled in: the binary serves it wherever it runs, offline included.
const PAGE: &str = include_str!("page.html");

pub(super) fn router(ws_url: &str, limits: QueryLimits) -> Router {
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        ),
        (header::CONTENT_SECURITY_POLICY, policy(ws_url)),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
    ];
    Router::new()
        .route("/streams", get(move || async move { (headers, PAGE) }))
        .route(
            "/streams/check/{stream}",
            get(
                move |Path(stream): Path<String>, RawQuery(query): RawQuery| async move {
                    check(&stream, query.as_deref(), &limits)
                },
            ),
        )
}

/// 204 when `stream` takes `query`, else the refusal its upgrade would get; 404 for a
/// stream there is not.
fn check(stream: &str, query: Option<&str>, limits: &QueryLimits) -> Response {
    let Some(stream) = StreamKind::ALL.into_iter().find(|s| s.as_str() == stream) else {
        return (StatusCode::NOT_FOUND, "no such stream\n").into_response();
    };
    match filter::parse(stream, query, limits) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => refused_query(&error),
    }
}

/// The page's Content-Security-Policy: nothing but its own inline style and script (by
/// their hashes, so no other inline code runs), requests to its own origin (the API root,
/// the check), and WebSockets to the advertised stream origin.
fn policy(ws_url: &str) -> HeaderValue {
    let script = inline_hash("script");
    let style = inline_hash("style");
    let policy = |connect: &str| {
        format!(
            "default-src 'none'; script-src {script}; style-src {style}; \
             connect-src 'self'{connect}; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        )
    };
    HeaderValue::from_str(&policy(&format!(" {ws_url}"))).unwrap_or_else(|_| {
        warn!(
            ws_url,
            "the advertised stream URL cannot go in a header: the page at /streams cannot connect"
        );
        HeaderValue::from_str(&policy("")).expect("the policy is ASCII")
    })
}

/// `'sha256-…'` of the text of the page's one `<tag>` element, as CSP hashes it.
fn inline_hash(tag: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let text = PAGE
        .split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&close))
        .map(|(text, _)| text)
        .unwrap_or_else(|| panic!("page.html has no {open}"));
    format!("'sha256-{}'", STANDARD.encode(Sha256::digest(text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_self_contained() {
        for tag in ["script", "style"] {
            assert_eq!(PAGE.matches(&format!("<{tag}")).count(), 1, "one <{tag}>");
        }
        // Nothing fetched from elsewhere: no src or href attributes, no URLs but the SVG
        // namespace (a name, never fetched).
        for outside in ["src=", "href=", "@import", "url("] {
            assert!(!PAGE.contains(outside), "page.html holds {outside}");
        }
        let urls = PAGE.matches("http").count();
        let namespace = PAGE.matches("http://www.w3.org/2000/svg").count();
        assert_eq!(urls, namespace, "page.html names URLs");
    }

    #[test]
    fn the_policy_allows_the_inline_code_and_the_stream_origin_only() {
        let text = |header: HeaderValue| header.to_str().expect("ASCII").to_owned();
        let good = text(policy("wss://example.org:443"));
        assert!(good.starts_with("default-src 'none'; script-src 'sha256-"));
        assert!(good.contains("connect-src 'self' wss://example.org:443;"));
        assert!(!good.contains("unsafe"));
        // A URL no header can hold leaves the page its own origin only.
        let broken = text(policy("ws://bad\nhost:9985"));
        assert!(broken.contains("connect-src 'self';"), "{broken}");
    }

    #[test]
    fn the_check_answers_as_the_upgrade_would() {
        let limits = QueryLimits::default();
        let status = |stream, query| check(stream, query, &limits).status().as_u16();
        assert_eq!(status("valid_transactions", None), 204);
        assert_eq!(status("valid_blocks", Some("transactions=full")), 204);
        assert_eq!(status("valid_transactions", Some("transactions=full")), 400);
        assert_eq!(status("refused_transactions", Some("operation=nope")), 400);
        let long = "a".repeat(filter::MAX_QUERY_BYTES + 1);
        assert_eq!(status("valid_blocks", Some(&long)), 414);
        assert_eq!(status("valid_nothing", None), 404);
    }
}

//! What hostile clients are held to, as small pure decisions the server and the sessions
//! apply: a [`TokenBucket`] (how fast a subscriber may talk), [`PerAddress`] (how many
//! subscribers one address may hold) and [`client_address`] (which address a connection
//! counts against, trusting `X-Forwarded-For` only from the configured proxies).
//!
//! In: instants, costs, addresses and header values. Out: yes or no, a permit released on
//! drop, an address. No I/O and no clock of its own: callers pass the time, so the tests
//! here need no runtime. [`LimitError`] is what the server's reads fail with when a client
//! sends faster than its byte rate.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Why a client was cut off, where an I/O error must carry it to the session that tells
/// the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("the client sent more bytes than its rate allows")]
    ByteRate,
}

/// A rate with a burst: up to `capacity` at once, refilled at `per_second`. Starts full,
/// so a client's first messages (its handshake, a pong) are never refused.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    per_second: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(per_second: u32, capacity: u32, now: Instant) -> Self {
        TokenBucket {
            per_second: f64::from(per_second),
            capacity: f64::from(capacity),
            tokens: f64::from(capacity),
            last: now,
        }
    }

    /// Takes `cost` if the bucket holds it; false (taking nothing) if it does not.
    pub fn take(&mut self, cost: u64, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.per_second).min(self.capacity);
        self.last = now;
        let cost = cost as f64;
        if cost > self.tokens {
            return false;
        }
        self.tokens -= cost;
        true
    }
}

/// Places held per address, at most `max` each (subscribers, or connections in their HTTP
/// phase). An address counts as its [`address_key`]. The entry of an address goes when its
/// last permit does, so the map holds only addresses that hold something.
#[derive(Debug)]
pub struct PerAddress {
    max: usize,
    held: Mutex<HashMap<IpAddr, usize>>,
}

/// One subscriber's place under its address's limit, given back on drop.
#[derive(Debug)]
pub struct AddressPermit {
    owner: Arc<PerAddress>,
    address: IpAddr,
}

impl PerAddress {
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(PerAddress {
            max,
            held: Mutex::default(),
        })
    }

    /// A place for one more subscriber of `address`, or None when it holds `max` already.
    pub fn try_acquire(self: &Arc<Self>, address: IpAddr) -> Option<AddressPermit> {
        let address = address_key(address);
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let count = held.entry(address).or_default();
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(AddressPermit {
            owner: self.clone(),
            address,
        })
    }

    /// Subscribers `address` holds now.
    pub fn held(&self, address: IpAddr) -> usize {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get(&address_key(address)).copied().unwrap_or(0)
    }
}

impl Drop for AddressPermit {
    fn drop(&mut self) {
        let mut held = self.owner.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                held.remove(&self.address);
            }
        }
    }
}

/// What an address counts as: IPv4 (mapped into IPv6 or not) as itself, IPv6 as its /64.
/// A single IPv6 host is usually given a whole /64 and may use any address in it, so
/// counting addresses one by one would give one host 2^64 limits.
pub fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !(u64::MAX as u128))),
        v4 => v4,
    }
}

/// The address a request counts against: the peer's, unless the peer is one of `trusted`
/// (the proxies in front of the service), in which case the last `X-Forwarded-For` entry
/// that is not itself a trusted proxy (each proxy appends the address it saw, so entries
/// left of that one are whatever the client chose to write). A trusted proxy that sends
/// no usable entry counts as the client: its requests share one limit rather than none.
pub fn client_address<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    trusted: &[IpAddr],
) -> IpAddr {
    let peer = peer.to_canonical();
    if !trusted.contains(&peer) {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|value| value.split(','))
        .collect();
    for entry in entries.iter().rev() {
        let Ok(address) = entry.trim().parse::<IpAddr>() else {
            return peer;
        };
        let address = address.to_canonical();
        if !trusted.contains(&address) {
            return address;
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10, 20, start);
        assert!((0..20).all(|_| bucket.take(1, start)), "the burst");
        assert!(!bucket.take(1, start), "past the burst");
        let later = start + Duration::from_millis(500);
        assert!(
            (0..5).all(|_| bucket.take(1, later)),
            "half a second's worth"
        );
        assert!(!bucket.take(1, later));
        // Refilling stops at the capacity, however long the client was quiet.
        let much_later = later + Duration::from_secs(60);
        assert!(bucket.take(20, much_later));
        assert!(!bucket.take(1, much_later));
        // A refused cost takes nothing: a smaller one still fits.
        let next = much_later + Duration::from_millis(300);
        assert!(!bucket.take(4, next));
        assert!(bucket.take(3, next));
    }

    #[test]
    fn per_address_counts_each_address_and_frees_on_drop() {
        let limit = PerAddress::new(2);
        let (a, b) = (ip("10.0.0.1"), ip("10.0.0.2"));
        let first = limit.try_acquire(a).expect("first");
        let second = limit.try_acquire(a).expect("second");
        assert!(
            limit.try_acquire(a).is_none(),
            "a third from the same address"
        );
        let other = limit
            .try_acquire(b)
            .expect("another address has its own limit");
        assert_eq!((limit.held(a), limit.held(b)), (2, 1));
        drop(first);
        let again = limit.try_acquire(a).expect("a place freed");
        drop((second, again, other));
        assert_eq!((limit.held(a), limit.held(b)), (0, 0));
        assert!(
            limit.held.lock().unwrap().is_empty(),
            "no entry left behind"
        );
    }

    #[test]
    fn an_ipv6_host_counts_as_its_64_and_a_mapped_ipv4_as_itself() {
        let limit = PerAddress::new(1);
        let _held = limit.try_acquire(ip("2001:db8:1:2::1")).expect("first");
        assert!(
            limit.try_acquire(ip("2001:db8:1:2:ffff::9")).is_none(),
            "another address of the same /64"
        );
        let _other = limit
            .try_acquire(ip("2001:db8:1:3::1"))
            .expect("the next /64 is someone else");
        let _v4 = limit.try_acquire(ip("192.0.2.7")).expect("first");
        assert!(limit.try_acquire(ip("::ffff:192.0.2.7")).is_none());
        assert_eq!(limit.held(ip("192.0.2.7")), 1);
        assert!(limit.try_acquire(ip("192.0.2.8")).is_some());
    }

    #[test]
    fn forwarded_for_is_believed_only_from_a_trusted_proxy() {
        let proxy = ip("10.0.0.9");
        let trusted = [proxy];
        // From anyone else, the header is ignored.
        let stranger = ip("192.0.2.7");
        assert_eq!(
            client_address(stranger, ["203.0.113.1"], &trusted),
            stranger
        );
        assert_eq!(client_address(stranger, ["203.0.113.1"], &[]), stranger);
        // From the proxy: the entry it appended, not what the client wrote before it.
        assert_eq!(
            client_address(proxy, ["198.51.100.1, 203.0.113.1"], &trusted),
            ip("203.0.113.1")
        );
        // Several header lines are one list, in order.
        assert_eq!(
            client_address(proxy, ["198.51.100.1", "203.0.113.2"], &trusted),
            ip("203.0.113.2")
        );
        // A chain of trusted proxies is skipped.
        let inner = ip("10.0.0.8");
        assert_eq!(
            client_address(proxy, ["203.0.113.3, 10.0.0.8"], &[proxy, inner]),
            ip("203.0.113.3")
        );
        // No header, or garbage where the proxy's entry should be: the proxy itself.
        assert_eq!(client_address(proxy, [], &trusted), proxy);
        assert_eq!(
            client_address(proxy, ["203.0.113.1, unknown"], &trusted),
            proxy
        );
        // An IPv4 peer on a dual-stack socket is still the IPv4 address.
        assert_eq!(
            client_address(ip("::ffff:10.0.0.9"), ["203.0.113.4"], &trusted),
            ip("203.0.113.4")
        );
    }
}

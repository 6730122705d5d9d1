//! The node's faults, on demand: blocks without an event or with a garbled one,
//! `block_results` failing for a while, subscriptions cancelled as CometBFT cancels a slow
//! subscriber's, websockets dropped without a close frame, and the whole listener stopped
//! and restarted on the same port. In: the test's calls. Out: changes to the node's state
//! that the RPC handlers and websocket sessions act on.

use std::time::Duration;

use tokio::net::TcpListener;

use crate::TestNode;

impl TestNode {
    /// Blocks at these heights are produced without a NewBlock event.
    pub fn skip_events_for(&self, heights: impl IntoIterator<Item = u64>) {
        self.state().skip_events.extend(heights);
    }

    /// Blocks at these heights are produced with a malformed NewBlock event (the real
    /// event's text cut in the middle, so not JSON); `/block` and `/block_results` serve
    /// them as usual.
    pub fn garble_events_for(&self, heights: impl IntoIterator<Item = u64>) {
        self.state().garble_events.extend(heights);
    }

    /// The next `n` `block_results` calls (`POST /`, `GET /block_results`, or over the
    /// websocket) fail as CometBFT does when it has not stored a block's results yet:
    /// `{"code":-32603,"message":"Internal error","data":"could not find results for height
    /// #H"}`, HTTP 500 for GET. Calls for heights not produced yet fail as always and do not
    /// count among the `n`.
    pub fn fail_block_results(&self, n: usize) {
        self.state().failing_results = n;
    }

    /// Cancels the NewBlock subscription of every live `/websocket` connection as CometBFT
    /// does to a subscriber that does not keep up: the connection gets a JSON-RPC error
    /// carrying the subscription's request id (code -32000, `data` "subscription was
    /// canceled (reason: internal subscription event buffer is out of capacity)", spelled
    /// "cancelled" by Tendermint 0.34), no more events, and stays open; it may subscribe
    /// again. Blocks produced after this returns are not pushed on the cancelled
    /// subscriptions. [`Subscriptions::active`] drops once each connection has sent its
    /// error: [`TestNode::wait_for`] it.
    pub fn cancel_subscriptions(&self) {
        self.shared.cancellations.send_modify(|n| *n += 1);
    }

    /// Drops every `/websocket` connection without a close frame, and returns once they
    /// are all gone (their subscriptions included).
    pub async fn disconnect_websockets(&self) {
        let old = std::mem::take(&mut self.state().websockets);
        old.cancel.cancel();
        old.tracker.close();
        tokio::time::timeout(Duration::from_secs(5), old.tracker.wait())
            .await
            .expect("test node: websocket connections did not end");
    }

    /// Stops listening (the port refuses connections) and drops every connection.
    pub async fn stop(&mut self) {
        let Some(listener) = self.listener.take() else {
            return;
        };
        listener.stop.cancel();
        self.disconnect_websockets().await;
        tokio::time::timeout(Duration::from_secs(5), listener.task)
            .await
            .expect("test node: listener did not stop")
            .expect("test node: listener task failed");
    }

    /// Listens again on the same port, with the chain where it was.
    pub async fn restart(&mut self) {
        assert!(self.listener.is_none(), "test node: restart without stop");
        let listener = TcpListener::bind(self.addr)
            .await
            .unwrap_or_else(|e| panic!("test node: rebinding {}: {e}", self.addr));
        self.listen(listener);
    }
}
